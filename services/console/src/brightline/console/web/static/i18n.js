// Every string the UI shows, in Chinese (default) and English.
export const DICT = {
  zh: {
    brand: "光明服务 · 95598", skip: "跳到主要内容", signout: "退出", signin: "登录", username: "工号账号",
    password: "密码", signin_title: "坐席 / 值班长登录", demo_hint: "演示账号：agent-1001 … agent-1004（坐席），super-9001（值班长），密码 {pw}",
    bad_credentials: "账号或密码错误", live_on: "实时", live_off: "未连接",
    state_offline: "离线", state_ready: "就绪", state_not_ready: "未就绪", state_ringing: "振铃", state_talking: "通话中", state_wrap_up: "话后整理",
    ready: "就绪 (R)", not_ready: "未就绪 (N)", my_state: "我的状态",
    incoming: "来电", answer: "接听 (A)", answer_clock: "接听计时", within: "{s} 秒内接听", over: "已超过 {s} 秒",
    caller_card: "来电客户", caller_number: "来电号码", no_customer: "号码未关联客户档案", open_tickets: "在办工单", recent_tickets: "近期工单",
    outages: "所在区域停电", repeat_caller: "重复来电", sensitive: "敏感客户", harassing: "骚扰号码",
    greeting: "开头语", announcements: "先行告知", script: "引导脚本", ticket_type: "工单类型", next: "下一步 (Enter)",
    ticket_form: "工单信息", record: "生成工单 (Ctrl+S)", recorded: "工单已生成：{no}", escalate: "转值班长 (E)",
    escalate_reason: "原因", reason_agitated: "客户情绪激动", reason_harassing: "骚扰来电", reason_complex: "问题复杂", reason_other: "其他",
    escalated: "已请求值班长协助", hangup: "客户已挂机 (H)", wrap_up: "话后整理", closing: "结束语", wrap_ready: "整理完毕，就绪", wrap_not_ready: "整理完毕，小休",
    waiting_calls: "等待来电…", not_ready_hint: "点击“就绪”开始接听来电", callbacks: "回访工作单", take_callback: "领取回访 (C)",
    no_callback: "暂无待回访任务", callback_outcome: "回访结果", satisfied: "满意", basically_satisfied: "基本满意", unsatisfied: "不满意",
    unreachable: "联系不上", declined: "拒绝回访", reason: "不满意原因", customer_words: "客户原话", save: "保存",
    outcome_saved: "回访结果已保存", my_tickets: "我的工单", done_outcome: "脚本结论",
    f_caller_name: "客户姓名", f_phone: "联系电话", f_address: "地址", f_fault_scope: "停电范围", f_description: "问题描述", f_fault_started_at: "停电时间",
    f_customer_number: "户号", f_complaint_subtype: "投诉类别", f_complaint_grade: "投诉等级", f_anonymous: "匿名", f_reported_party: "被举报对象", f_praised_party: "表扬对象",
    scope_own_home: "只有本户", scope_building: "整栋楼", scope_area: "整个小区或片区",
    t_repair: "故障报修", t_consultation: "业务咨询", t_service_request: "服务申请", t_complaint: "投诉", t_report: "举报", t_opinion: "意见", t_suggestion: "建议", t_praise: "表扬",
    call: "通话", sup_title: "值班长监控台", queues: "实时队列", queue: "队列", waiting: "排队", talking: "通话", longest: "最长等待",
    agents: "坐席状态", agent: "坐席", state: "状态", since: "持续", answered_today: "今日接听",
    escalations: "升级请求", accept: "接受", take_over: "接管", mark_harassing: "标记骚扰", decline: "驳回", no_escalations: "暂无升级请求",
    sla_board: "服务质量看板", answered_12s: "12 秒接通率（今日）", answered_12s_week: "近 7 日 12 秒接通率", callback_rate: "本月回访率",
    target: "目标 {t}", breaches_by_type: "在途超时（按类型）", no_data: "暂无数据", breaches: "超时清单", chase: "催办", chased: "已催办 {n} 次",
    due: "时限", limit: "时限类型", ticket: "工单", repair_board: "抢修看板", crews: "抢修班组", on_duty: "在岗", off_duty: "休息", open_orders: "在办",
    orders: "抢修工单", status: "状态", crew: "班组", unit: "单位", feed: "实时动态", recent_tickets_board: "最新受理工单",
    lim_answer: "接听", unavailable: "{svc} 服务暂不可用", refresh: "刷新", shortcuts: "快捷键：A 接听 · R 就绪 · N 未就绪 · E 转值班长 · H 挂机 · C 回访 · L 语言",
    tab_console: "监控", tab_sla: "质量", tab_repair: "抢修",
    ev_call_ringing: "来电振铃", ev_call_answered: "来电接通", ev_call_ended: "通话结束", ev_ticket_recorded: "工单受理", ev_escalation_requested: "升级请求",
    ev_escalation_resolved: "升级处理", "ev_work-order_created": "派发工单", "ev_work-order_status-changed": "工单状态", "ev_work-order_returned": "工单回单",
    ev_outage_declared: "停电事件", ev_outage_restored: "恢复供电", ev_deadline_breached: "时限超时", ev_deadline_warned: "时限预警", ev_deadline_opened: "时限开始", ev_deadline_met: "按时完成",
  },
  en: {
    brand: "Bright Service · 95598", skip: "Skip to main content", signout: "Sign out", signin: "Sign in", username: "User name",
    password: "Password", signin_title: "Agent / supervisor sign-in", demo_hint: "Demo users: agent-1001 … agent-1004 (agents), super-9001 (supervisor), password {pw}",
    bad_credentials: "Wrong user name or password", live_on: "Live", live_off: "Offline",
    state_offline: "Offline", state_ready: "Ready", state_not_ready: "Not ready", state_ringing: "Ringing", state_talking: "Talking", state_wrap_up: "Wrap-up",
    ready: "Ready (R)", not_ready: "Not ready (N)", my_state: "My state",
    incoming: "Incoming call", answer: "Answer (A)", answer_clock: "Answer clock", within: "answer within {s} s", over: "over {s} s",
    caller_card: "Caller", caller_number: "Calling number", no_customer: "Number not linked to a customer", open_tickets: "Open tickets", recent_tickets: "Recent tickets",
    outages: "Outage in the area", repeat_caller: "Repeat caller", sensitive: "Sensitive customer", harassing: "Harassing number",
    greeting: "Greeting", announcements: "Announce first", script: "Guided script", ticket_type: "Ticket type", next: "Next (Enter)",
    ticket_form: "Ticket", record: "Record ticket (Ctrl+S)", recorded: "Ticket recorded: {no}", escalate: "To supervisor (E)",
    escalate_reason: "Reason", reason_agitated: "Caller agitated", reason_harassing: "Harassing caller", reason_complex: "Complex matter", reason_other: "Other",
    escalated: "Supervisor asked for help", hangup: "Caller hung up (H)", wrap_up: "Wrap-up", closing: "Closing line", wrap_ready: "Done, ready", wrap_not_ready: "Done, take a break",
    waiting_calls: "Waiting for calls…", not_ready_hint: "Press Ready to take calls", callbacks: "Callback worklist", take_callback: "Take a callback (C)",
    no_callback: "No callback due", callback_outcome: "Callback outcome", satisfied: "Satisfied", basically_satisfied: "Basically satisfied", unsatisfied: "Unsatisfied",
    unreachable: "Unreachable", declined: "Declined", reason: "Why unsatisfied", customer_words: "Customer's words", save: "Save",
    outcome_saved: "Callback outcome saved", my_tickets: "My tickets", done_outcome: "Script outcome",
    f_caller_name: "Caller name", f_phone: "Phone", f_address: "Address", f_fault_scope: "Outage scope", f_description: "Description", f_fault_started_at: "Power off since",
    f_customer_number: "Account no.", f_complaint_subtype: "Complaint type", f_complaint_grade: "Complaint grade", f_anonymous: "Anonymous", f_reported_party: "Reported party", f_praised_party: "Praised party",
    scope_own_home: "Own home only", scope_building: "Whole building", scope_area: "Whole estate or area",
    t_repair: "Fault repair", t_consultation: "Consultation", t_service_request: "Service request", t_complaint: "Complaint", t_report: "Report", t_opinion: "Opinion", t_suggestion: "Suggestion", t_praise: "Praise",
    call: "Call", sup_title: "Supervisor console", queues: "Live queues", queue: "Queue", waiting: "Waiting", talking: "Talking", longest: "Longest wait",
    agents: "Agent states", agent: "Agent", state: "State", since: "For", answered_today: "Answered today",
    escalations: "Escalations", accept: "Accept", take_over: "Take over", mark_harassing: "Mark harassing", decline: "Decline", no_escalations: "No escalation requests",
    sla_board: "SLA board", answered_12s: "Answered within 12 s (today)", answered_12s_week: "Answered within 12 s, last 7 days", callback_rate: "Callback rate this month",
    target: "target {t}", breaches_by_type: "Open breaches by type", no_data: "No data yet", breaches: "Breaches", chase: "Chase", chased: "chased {n}×",
    due: "Due", limit: "Limit", ticket: "Ticket", repair_board: "Repair board", crews: "Crews", on_duty: "On duty", off_duty: "Off duty", open_orders: "Open",
    orders: "Work orders", status: "Status", crew: "Crew", unit: "Unit", feed: "Live feed", recent_tickets_board: "Latest tickets",
    lim_answer: "Answer", unavailable: "{svc} is not available", refresh: "Refresh", shortcuts: "Keys: A answer · R ready · N not ready · E supervisor · H hang up · C callback · L language",
    tab_console: "Floor", tab_sla: "SLA", tab_repair: "Repair",
    ev_call_ringing: "Call ringing", ev_call_answered: "Call answered", ev_call_ended: "Call ended", ev_ticket_recorded: "Ticket recorded", ev_escalation_requested: "Escalation",
    ev_escalation_resolved: "Escalation resolved", "ev_work-order_created": "Work order", "ev_work-order_status-changed": "Order status", "ev_work-order_returned": "Order returned",
    ev_outage_declared: "Outage declared", ev_outage_restored: "Power restored", ev_deadline_breached: "Deadline breached", ev_deadline_warned: "Deadline warning", ev_deadline_opened: "Deadline opened", ev_deadline_met: "Deadline met",
  },
};

let lang = localStorage.getItem("lang") || "zh";

export function getLang() { return lang; }
export function setLang(next) {
  lang = next;
  localStorage.setItem("lang", next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  const text = DICT[lang][key] ?? DICT.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
