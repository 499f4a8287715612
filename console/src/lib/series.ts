/** Append to a time series keeping at most `max` points (oldest dropped). */
export function pushBounded<T>(series: T[], point: T, max: number): T[] {
  const next = series.length >= max ? series.slice(series.length - max + 1) : series.slice();
  next.push(point);
  return next;
}
