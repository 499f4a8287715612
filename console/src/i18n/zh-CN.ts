// 中文（默认）。en.ts 必须有完全相同的键（tests/i18n.test.ts 检查）。
export default {
  app: { title: "零碳虚拟电厂", subtitle: "运营控制台", language: "语言", logout: "退出登录", user: "用户", role: "角色" },
  roles: { viewer: "查看者", operator: "运营员", trader: "交易员", admin: "管理员" },
  nav: {
    resources: "资源", templates: "模板库", builder: "VPP 聚合", wall: "监控大屏",
    dispatch: "调度", map: "园区地图", park3d: "三维园区",
  },
  login: {
    title: "登录", username: "用户名", password: "密码", submit: "登录", failed: "用户名或密码错误",
    expired: "会话已过期或无效，请重新登录", loggedOut: "已退出登录", busy: "登录中…",
  },
  common: {
    loading: "加载中…", error: "出错了", retry: "重试", save: "保存", cancel: "取消", create: "创建",
    search: "搜索", filter: "筛选", all: "全部", page: "第 {page} / {pages} 页", prev: "上一页", next: "下一页",
    total: "共 {n} 条", none: "无", back: "返回", details: "详情", name: "名称", status: "状态", actions: "操作",
    live: "实时", connecting: "连接中", disconnected: "已断开", resynced: "已重新同步", updatedAt: "更新于 {t}",
    forbidden: "你的角色无权执行此操作", yes: "是", no: "否",
  },
  status: { ONLINE: "在线", OFFLINE: "离线", MAINTENANCE: "维护", ERROR: "故障", ACTIVE: "运行", INACTIVE: "停用", UNKNOWN: "未知" },
  presets: {
    battery_storage: "电池储能", pv_inverter: "光伏逆变器", ev_charger: "电动汽车充电桩", hvac_chiller: "空调冷水机组",
    industrial_load: "可调工业负荷", gas_generator: "燃气/柴油发电机", site_meter: "关口电表",
  },
  category: { GENERATION: "发电", STORAGE: "储能", LOAD: "负荷", FLEXIBLE: "柔性负荷" },
  market: { SPOT: "现货", ANCILLARY: "辅助服务", CAPACITY: "容量" },
  units: { kw: "{v} kW", kwh: "{v} kWh", pct: "{v}%", s: "{v} 秒", c: "{v} °C" },
  resources: {
    title: "资源实例", searchPlaceholder: "按名称搜索", template: "模板", category: "类别", edge: "边缘节点",
    device: "设备", capacity: "额定容量", power: "实时功率", soc: "SOC", lastSeen: "最新数据",
    empty: "没有符合条件的资源",
  },
  detail: {
    title: "资源详情", realtime: "实时数据", power: "功率", energy: "电量", soc: "荷电状态", temperature: "温度",
    history: "历史曲线", range: "时间范围", point: "测点", lastHour: "最近 1 小时", last6h: "最近 6 小时", last24h: "最近 24 小时",
    noData: "尚无数据", parameters: "参数", location: "位置",
  },
  templates: {
    title: "资源模板库", preset: "预置", custom: "自定义", version: "版本", type: "类型", createdBy: "创建者",
    newTemplate: "新建模板", newInstance: "基于此模板创建实例", parameters: "参数定义", paramName: "参数名",
    paramType: "类型", unit: "单位", min: "最小值", max: "最大值", default: "默认值", required: "必填",
    description: "说明", addParam: "添加参数", remove: "删除", createdInstance: "已创建实例 {name}",
    createdTemplate: "已创建模板 {name}", instanceName: "实例名称", capacity: "额定容量 (kW)",
    edgeId: "边缘节点 ID", deviceId: "设备 ID", efficiency: "效率 (0–1)", posX: "位置 X", posY: "位置 Y",
    fieldRequired: "{field} 为必填项", fieldMin: "{field} 不能小于 {min}", fieldMax: "{field} 不能大于 {max}",
    fieldNumber: "{field} 必须是数字", versions: "版本历史", newVersion: "保存为新版本", editing: "编辑 {name}",
    edit: "编辑（保存为新版本）", savedVersion: "已保存版本 {version}",
  },
  builder: {
    title: "VPP 聚合", pool: "可用资源", members: "VPP 成员", dropHere: "把资源拖到这里", dragHint: "拖动资源卡片加入或移出 VPP",
    vpp: "虚拟电厂", newVpp: "新建 VPP", name: "VPP 名称", marketType: "市场类型", description: "描述",
    aggregated: "聚合参数（未保存）", total: "总容量", up: "上调可用容量", down: "下调可用容量",
    response: "响应时间", efficiency: "综合效率", online: "在线成员", current: "当前出力",
    conflicts: "冲突检测", noConflicts: "未发现冲突", suggestion: "建议", saved: "已保存 {name}",
    unsaved: "有未保存的修改", ratio: "分配比例", priority: "优先级", remove: "移出", add: "加入",
    createdVpp: "已创建 {name}", more: "显示 {shown} / {n} 个，搜索以缩小范围",
    fix: {
      over_allocation: "降低该资源在本 VPP 或其他 VPP 中的分配比例，使总和不超过 1",
      double_commitment: "撤回或减少该时段的一笔投标", member_unavailable: "恢复这些成员上线，或在承诺容量前将其移出",
      below_qualification: "加入更多资源或提高分配比例", response_time_mismatch: "把响应慢的成员移到面向慢速品种的 VPP",
    },
    conflict: {
      over_allocation: "资源超额分配", double_commitment: "容量重复承诺", member_unavailable: "成员不可用",
      below_qualification: "未达到市场准入要求", response_time_mismatch: "响应时间不满足",
    },
  },
  wall: {
    title: "实时监控大屏", vpps: "VPP 运行状态", available: "可调容量", execution: "调度执行",
    target: "目标", actual: "实际", deviation: "偏差", edges: "边缘节点", edgesOnline: "在线 {n} / {total}",
    alarms: "告警", noAlarms: "无告警", power: "VPP 出力", resources: "资源在线", noDispatch: "暂无调度指令",
    market: "市场行情（市场模块上线后显示）",
    alarm: {
      resource_error: "资源故障", resource_offline: "资源离线", edge_offline: "边缘节点离线",
      dispatch_rejected: "调度被拒绝", dispatch_clamped: "调度被限幅",
    },
  },
  dispatch: {
    title: "调度指令", vpp: "虚拟电厂", target: "对象", wholeVpp: "整个 VPP（按成员分解）", power: "目标功率 (kW)",
    powerHint: "正值为放电/发电，负值为充电/用电", duration: "持续时间 (秒)", send: "下发指令",
    sent: "指令已下发：{id}", instructions: "指令执行情况", feasible: "可执行", infeasible: "不可执行",
    start: "开始", end: "结束", by: "下发人",
    state: {
      pending: "待执行", accepted: "已接受", executing: "执行中", clamped: "已限幅", rejected: "已拒绝",
      done: "已完成", expired: "已过期", superseded: "已被替代", failed: "失败",
    },
  },
  map: {
    title: "园区地图", unplaced: "未标注位置的资源按网格排列", legend: "图例", zone: "区域",
    zones: { storage: "储能区", solar: "光伏区", grid: "并网点", ev: "充电区", hvac: "空调机房", load: "负荷区" },
  },
  park3d: { title: "三维园区", hint: "拖动旋转，滚轮缩放；柱高为额定容量，颜色为状态" },
};
