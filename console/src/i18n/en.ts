// English. Must have exactly the keys of zh-CN.ts (checked by tests/i18n.test.ts).
export default {
  app: { title: "Lingtan VPP", subtitle: "Operations console", language: "Language", logout: "Log out", user: "User", role: "Role" },
  roles: { viewer: "Viewer", operator: "Operator", trader: "Trader", admin: "Administrator" },
  nav: {
    resources: "Resources", templates: "Templates", builder: "VPP builder", wall: "Monitoring wall",
    dispatch: "Dispatch", map: "Park map", park3d: "3D park",
  },
  login: {
    title: "Log in", username: "User name", password: "Password", submit: "Log in", failed: "Wrong user name or password",
    expired: "Your session expired or is invalid: please log in again", loggedOut: "Logged out", busy: "Logging in…",
  },
  common: {
    loading: "Loading…", error: "Something went wrong", retry: "Retry", save: "Save", cancel: "Cancel", create: "Create",
    search: "Search", filter: "Filter", all: "All", page: "Page {page} of {pages}", prev: "Previous", next: "Next",
    total: "{n} in total", none: "None", back: "Back", details: "Details", name: "Name", status: "Status", actions: "Actions",
    live: "Live", connecting: "Connecting", disconnected: "Disconnected", resynced: "Resynced", updatedAt: "Updated {t}",
    forbidden: "Your role may not do this", yes: "Yes", no: "No",
  },
  status: { ONLINE: "Online", OFFLINE: "Offline", MAINTENANCE: "Maintenance", ERROR: "Error", ACTIVE: "Active", INACTIVE: "Inactive", UNKNOWN: "Unknown" },
  presets: {
    battery_storage: "Battery energy storage", pv_inverter: "PV inverter", ev_charger: "EV charger", hvac_chiller: "HVAC / chiller",
    industrial_load: "Flexible industrial load", gas_generator: "Gas / diesel generator", site_meter: "Site meter",
  },
  category: { GENERATION: "Generation", STORAGE: "Storage", LOAD: "Load", FLEXIBLE: "Flexible load" },
  market: { SPOT: "Spot", ANCILLARY: "Ancillary", CAPACITY: "Capacity" },
  units: { kw: "{v} kW", kwh: "{v} kWh", pct: "{v}%", s: "{v} s", c: "{v} °C" },
  resources: {
    title: "Resource instances", searchPlaceholder: "Search by name", template: "Template", category: "Category", edge: "Edge",
    device: "Device", capacity: "Rated capacity", power: "Live power", soc: "SoC", lastSeen: "Newest data",
    empty: "No resource matches",
  },
  detail: {
    title: "Resource detail", realtime: "Realtime values", power: "Power", energy: "Energy", soc: "State of charge", temperature: "Temperature",
    history: "History", range: "Range", point: "Point", lastHour: "Last hour", last6h: "Last 6 hours", last24h: "Last 24 hours",
    noData: "No data yet", parameters: "Parameters", location: "Location",
  },
  templates: {
    title: "Template library", preset: "Preset", custom: "Custom", version: "Version", type: "Type", createdBy: "Created by",
    newTemplate: "New template", newInstance: "Create an instance from this template", parameters: "Parameter schema", paramName: "Parameter",
    paramType: "Type", unit: "Unit", min: "Min", max: "Max", default: "Default", required: "Required",
    description: "Description", addParam: "Add parameter", remove: "Remove", createdInstance: "Created instance {name}",
    createdTemplate: "Created template {name}", instanceName: "Instance name", capacity: "Rated capacity (kW)",
    edgeId: "Edge ID", deviceId: "Device ID", efficiency: "Efficiency (0–1)", posX: "Position X", posY: "Position Y",
    fieldRequired: "{field} is required", fieldMin: "{field} must be at least {min}", fieldMax: "{field} must be at most {max}",
    fieldNumber: "{field} must be a number", versions: "Versions", newVersion: "Save as a new version", editing: "Editing {name}",
    edit: "Edit (saves a new version)", savedVersion: "Saved version {version}",
  },
  builder: {
    title: "VPP builder", pool: "Available resources", members: "VPP members", dropHere: "Drop resources here", dragHint: "Drag resource cards in or out of the VPP",
    vpp: "VPP", newVpp: "New VPP", name: "VPP name", marketType: "Market", description: "Description",
    aggregated: "Aggregated parameters (not saved)", total: "Total capacity", up: "Available up", down: "Available down",
    response: "Response time", efficiency: "Efficiency", online: "Members online", current: "Current output",
    conflicts: "Conflicts", noConflicts: "No conflicts found", suggestion: "Suggestion", saved: "Saved {name}",
    unsaved: "Unsaved changes", ratio: "Allocation ratio", priority: "Priority", remove: "Remove", add: "Add",
    createdVpp: "Created {name}", more: "Showing {shown} of {n}: search to narrow",
    fix: {
      over_allocation: "Lower its allocation ratio in this or another VPP so the sum is at most 1",
      double_commitment: "Withdraw or reduce one of the bids for this period", member_unavailable: "Bring them back online or remove them before committing capacity",
      below_qualification: "Add resources or raise allocation ratios", response_time_mismatch: "Move slow members to a VPP for a slower product",
    },
    conflict: {
      over_allocation: "Over-allocated resource", double_commitment: "Capacity committed twice", member_unavailable: "Member unavailable",
      below_qualification: "Below market qualification", response_time_mismatch: "Response time too slow",
    },
  },
  wall: {
    title: "Monitoring wall", vpps: "VPP state", available: "Available capacity", execution: "Dispatch execution",
    target: "Target", actual: "Actual", deviation: "Deviation", edges: "Edges", edgesOnline: "{n} of {total} online",
    alarms: "Alarms", noAlarms: "No alarms", power: "VPP output", resources: "Resources online", noDispatch: "No dispatch instructions",
    market: "Market prices (shown once the markets module lands)",
    alarm: {
      resource_error: "Resource error", resource_offline: "Resource offline", edge_offline: "Edge offline",
      dispatch_rejected: "Dispatch rejected", dispatch_clamped: "Dispatch clamped",
    },
  },
  dispatch: {
    title: "Dispatch", vpp: "VPP", target: "Target", wholeVpp: "Whole VPP (split over members)", power: "Target power (kW)",
    powerHint: "Positive discharges/generates, negative charges/consumes", duration: "Duration (s)", send: "Send instruction",
    sent: "Instruction sent: {id}", instructions: "Execution", feasible: "Feasible", infeasible: "Infeasible",
    start: "Start", end: "End", by: "By",
    state: {
      pending: "Pending", accepted: "Accepted", executing: "Executing", clamped: "Clamped", rejected: "Rejected",
      done: "Done", expired: "Expired", superseded: "Superseded", failed: "Failed",
    },
  },
  map: {
    title: "Park map", unplaced: "Resources without a location are laid out on a grid", legend: "Legend", zone: "Zone",
    zones: { storage: "Storage", solar: "Solar", grid: "Grid connection", ev: "EV charging", hvac: "Chiller plant", load: "Loads" },
  },
  park3d: { title: "3D park", hint: "Drag to rotate, scroll to zoom; bar height is rated capacity, colour is status" },
};
