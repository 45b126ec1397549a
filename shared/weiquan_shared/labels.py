"""The Chinese name of every code people see: one table for the whole system.

Pages, API answers, WeChat replies and reports take their words from here, so a route, a
status or a role has one name wherever it appears. ``DISTRICTS`` is also the table district
codes are validated against: a union elsewhere replaces it with its own city's districts.
"""

from __future__ import annotations

from typing import Any

CHANNELS = {"hotline": "12351热线", "wechat": "微信公众号", "walk_in": "来访窗口"}
CATEGORIES = {
    "wage_arrears": "拖欠工资",
    "termination": "解除劳动关系/经济补偿",
    "no_written_contract": "未签书面劳动合同",
    "overtime": "加班与工时休假",
    "social_insurance": "社会保险",
    "work_injury": "工伤",
    "female_protection": "女职工特殊保护",
    "platform_work": "新就业形态/平台用工",
    "other": "其他",
}
URGENCIES = {"critical": "特急", "urgent": "紧急", "normal": "一般"}
ROUTES = {
    "consultation": "当场解答",
    "mediation": "调解",
    "legal_aid": "法律援助",
    "referral": "转介",
}
ROUTE_DETAILS = {
    "consultation.answered": "当场解答",
    "mediation.union": "工会劳动争议调解",
    "mediation.court_union_room": "法院—工会诉调对接工作室",
    "mediation.labour_bureau": "“工会+仲裁”调解室",
    "mediation.industry_committee": "行业性劳动争议调解委员会",
    "legal_aid.union": "工会法律援助",
    "referral.labour_inspection": "转介劳动保障监察",
    "referral.arbitration": "转介劳动人事争议仲裁",
    "referral.court": "转介人民法院",
}
CLOCKS = {
    "arbitration_limitation": "仲裁时效",
    "mediation_window": "调解期限",
    "legal_aid_review": "法律援助审查期限",
    "injury_recognition_employer": "用人单位申请工伤认定期限",
    "injury_recognition_worker": "职工或工会申请工伤认定期限",
}
# A case's status: received and waiting for triage, then where triage sent it (until
# mediation and legal aid publish their own events). Intake says ``accepted`` and
# projection ``awaiting_triage`` for the same state; both read the same.
STATUSES = {
    "accepted": "已受理，待分流",
    "awaiting_triage": "已受理，待分流",
    "consultation": "已分流：当场解答",
    "mediation": "已分流至调解",
    "legal_aid": "已分流至法律援助",
    "referral": "已分流：转介有关部门",
    "voided": "已作废",
}
# Notifications to people (the notification service's delivery log).
NOTIFICATION_CHANNELS = {"sms": "短信", "wechat": "微信", "email": "电子邮件"}
NOTIFICATION_STATUSES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}
# What each message template tells (by its name, whatever the channel).
NOTIFICATION_TEMPLATES = {
    "case_accepted": "受理通知",
    "case_routed": "分流通知",
    "case_routed_mediation": "分流通知（调解）",
    "case_routed_legal_aid": "分流通知（法律援助）",
    "case_routed_referral": "分流通知（转介）",
    "mediation_session_scheduled": "调解时间地点通知",
    "mediation_session_moved": "调解改期通知",
    "mediation_session_cancelled": "调解取消通知",
    "mediation_agreement_reached": "调解协议达成通知",
    "mediation_instalment_overdue": "协议款项逾期提醒",
    "mediation_expired": "调解期满告知",
    "mediation_survey": "满意度调查",
    "legal_aid_survey": "法律援助满意度调查",
    "legal_aid_denied": "不予法律援助告知",
    "legal_aid_granted": "法律援助决定通知",
    "employer_session_scheduled": "调解时间地点通知（用人单位）",
    "employer_session_moved": "调解改期通知（用人单位）",
    "employer_reminder_letter": "工会劳动法律监督提示函",
    "mediator_assigned": "调解指派通知（调解员）",
    "mediator_session_reminder": "明日调解提醒（调解员）",
    "mediator_deadline_at_risk": "期限预警（调解员）",
    "lawyer_assigned": "法律援助指派通知（律师）",
    "lawyer_deadline_at_risk": "期限预警（律师）",
}
RECIPIENT_KINDS = {"worker": "职工", "employer": "用人单位", "mediator": "调解员", "lawyer": "律师"}
# Everyone who signs in, by role (weiquan_shared.auth.Role holds the same codes).
ROLES = {
    "operator": "接线员",
    "walk_in_clerk": "窗口受理员",
    "triage_officer": "分流员",
    "mediator": "调解员",
    "legal_aid_officer": "法律援助专员",
    "lawyer": "律师",
    "supervisor": "督导/领导",
    "admin": "系统管理员",
}
# Why a person searches cases by a worker's mobile (stated with every search, audited).
MOBILE_SEARCH_REASONS = {
    "progress_enquiry": "职工来电查询进度",
    "call_back": "回访职工",
    "duplicate_check": "核对重复登记",
}
# Why a person reveals one masked value of a worker (stated with every reveal, audited).
REVEAL_REASONS = {
    "call_back": "回电联系职工",
    "draft_document": "起草文书",
    "verify_identity": "核实身份",
}
# The organisations users belong to (the five-party mechanism, and law firms).
ORGANISATIONS = {
    "union": "工会",
    "peoples_court": "人民法院",
    "labour_bureau": "人力资源和社会保障局",
    "procuratorate": "人民检察院",
    "justice_bureau": "司法局",
    "law_firm": "律师事务所",
}
# How a triage decision came about (triage's decision history).
DECISION_KINDS = {
    "initial": "首次分流",
    "group": "并入群体案件",
    "override": f"{ROLES['triage_officer']}调整分流",
}
# Where a statutory clock stands today.
DEADLINE_STATES = {
    "running": "未届满",
    "at_risk": "即将届满",
    "expired": "已届满，待人工核实",
}
# The case file (intake): contacts with the worker, consent to share, voiding; and what a
# triage officer settled about a case flagged for review (请人工核实).
CONTACT_METHODS = {
    "call_back": "回电",
    "visit": "上门/约见",
    "wechat": "微信消息",
    "sms": "短信",
    "letter": "信函",
}
CONTACT_OUTCOMES = {
    "reached": "已联系上",
    "no_answer": "无人接听",
    "wrong_number": "号码有误",
    "refused": "职工拒绝",
    "left_message": "已留言",
}
CONSENT_SCOPES = {
    "court": "人民法院",
    "labour_bureau": "人力资源和社会保障部门（含劳动人事争议仲裁委员会）",
    "law_firm": "律师事务所",
}
VOID_REASONS = {
    "test_call": "测试来电",
    "duplicate": "重复登记",
    "registered_in_error": "误登记",
    "withdrawn_before_handling": "受理前职工撤回",
}
REVIEW_RESOLUTIONS = {
    "start_date_recorded": "已核实并记录知道权利受侵害的日期",
    "limitation_interrupted": "时效中断，自记录日期重新计算",
    "limitation_suspended": "时效中止",
    "limitation_expiry_confirmed": "已确认时效届满",
    "dates_checked": "已核对日期（调休上班日、节假日安排等）",
}
CONSENT_OBTAINED_BY = {"intake_form": "登记时", "case_page": "案件页", "wechat": "微信公众号"}
# The districts of the union's city (Shenzhen in the demo data, GB/T 2260).
DISTRICTS = {
    "440303": "罗湖区",
    "440304": "福田区",
    "440305": "南山区",
    "440306": "宝安区",
    "440307": "龙岗区",
    "440308": "盐田区",
    "440309": "龙华区",
    "440310": "坪山区",
    "440311": "光明区",
}


# ---------------------------------------------------------------- mediation (mediation service)
MEDIATION_STATUSES = {
    "received": "已收到申请，待受理",
    "accepted": "已受理，调解中",
    "agreed": "已达成调解协议",
    "failed": "调解不成",
    "withdrawn": "已撤回",
    "expired": "调解期限届满未达成协议",
    "closed": "已结案",
}
MEDIATION_CLOCKS = {
    "statutory_receipt": "法定期限（收到申请之日起15日，调解仲裁法第十四条）",
    "regulation_acceptance": "规章期限（受理之日起15日，可经双方同意延长）",
}
# Satisfaction survey scores (notification's survey, projection's satisfaction rate).
SURVEY_SCORES = {1: "很不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "很满意"}

MEDIATION_CLOSED_RESULTS = {
    "fulfilled": "协议履行完毕",
    "agreement": "达成调解协议",
    "failed": "调解不成",
    "withdrawn": "撤回申请",
    "expired": "期限届满未达成协议",
    "merged": "并入群体争议调解",
    "handed_on": "改由其他途径处理",
    "voided": "案件作废",
}
ROOM_KINDS = {
    "court_union_room": "诉调对接工作室",
    "union_room": "工会调解室",
    "video": "视频调解",
}
SESSION_STATUSES = {
    "scheduled": "已预约",
    "held": "已调解",
    "no_show": "当事人未到场",
    "adjourned": "休会（另行安排）",
    "cancelled": "已取消",
}
SESSION_MOVE_REASONS = {
    "party_request_worker": "职工方申请改期",
    "party_request_employer": "用人单位申请改期",
    "mediator_unavailable": "调解员无法出席",
    "room_unavailable": "调解室不可用",
    "adjourned": "休会后续调",
    "other": "其他原因",
}
NO_SHOW_PARTIES = {"workers": "职工方", "employer": "用人单位方", "both": "双方"}
ASSIGNMENT_SOURCES = {"rules": "按规则指派", "coordinator": "协调人调整"}


# ---------------------------------------------------------------- audit trail (audit service)
# What a person did, by the ``action`` of an audit.recorded event: the event type of a state
# change, or the name of a read of personal data. An action missing here is shown as its code.
AUDIT_ACTIONS = {
    "case.reported": "登记案件",
    "consultation.recorded": "登记咨询",
    "case.triaged": "分流",
    "case.retriaged": "调整分流",
    "case.grouped": "并入群体案件",
    "employer.flagged": "标记重复投诉单位",
    "case.deadlines_updated": "更新法定时限",
    "pii.revealed": "查看个人信息",
    "case.searched_by_mobile": "按手机号查找",
    "case.searched_by_name": "按职工姓名查找",
    "case.searched_by_id_number": "按身份证号查找",
    "case.notes_read": "查看案件记录",
    "case.note_added": "添加案件记录",
    "case.contact_recorded": "记录联系职工",
    "case.assigned": "指定承办人",
    "case.consent_recorded": "记录职工单独同意",
    "case.employer_contact_recorded": "记录用人单位联系人",
    "case.voided": "作废案件",
    "case.review_resolved": "处理人工核实事项",
    "report.downloaded": "下载报表",
    "mediation.opened": "开启调解案件",
    "mediation.assigned": "指派调解员",
    "mediation.accepted": "受理调解申请",
    "mediation.clock_extended": "延长调解期限",
    "mediation.session_scheduled": "预约调解",
    "mediation.session_moved": "调整调解时间或地点",
    "mediation.session_held": "记录调解情况",
    "mediation.session_cancelled": "取消调解安排",
    "mediation.session_record_viewed": "查看调解笔录",
    "mediation.expired": "调解期限届满",
    "pii.looked_up": "服务调取个人信息",
    "agreement.generated": "生成调解协议书",
    "agreement.downloaded": "下载调解协议书",
    "mediation.agreement_reached": "登记调解协议",
    "mediation.failed": "登记调解不成",
    "mediation.withdrawn": "登记撤回调解申请",
    "mediation.confirmation_requested": "登记申请司法确认",
    "mediation.confirmation_decided": "登记司法确认裁定",
    "mediation.payment_order_applied": "登记申请支付令",
    "mediation.instalment_paid": "登记分期付款",
    "mediation.closed": "调解结案",
}
# Mediation's outcomes (the agreement, confirmation, payment order, fulfilment).
AGREEMENT_ITEMS = {
    "wages": "劳动报酬（工资）",
    "compensation": "经济补偿",
    "damages": "赔偿金",
    "other": "其他",
}
COURT_BASES = {
    "invited": "邀请调解组织先行调解的人民法院",
    "party_domicile": "当事人住所地基层人民法院",
    "subject_matter": "标的物所在地基层人民法院",
    "organisation_seat": "调解组织所在地基层人民法院",
}
CONFIRMATION_RULINGS = {
    "confirmed": "裁定确认有效",
    "rejected": "裁定驳回申请",
    "withdrawn": "申请人撤回",
}
FAILURE_REASONS = {
    "employer_refused": "用人单位拒绝调解或不接受方案",
    "workers_refused": "职工不接受调解方案",
    "employer_absent": "用人单位经通知未到场",
    "no_common_ground": "双方分歧较大，未能达成一致",
    "other": "其他原因",
}
NEXT_STEPS = {
    "arbitration": "申请劳动人事争议仲裁",
    "legal_aid": "申请法律援助",
    "litigation": "向人民法院起诉",
    "labour_inspection": "向劳动保障监察投诉",
}
WITHDRAWN_BY = {"workers": "职工", "employer": "用人单位", "union": "工会"}
WITHDRAWAL_REASONS = {
    "settled_privately": "双方自行和解",
    "claim_dropped": "放弃请求",
    "going_to_arbitration": "另行申请仲裁",
    "going_to_court": "另行向法院起诉",
    "other": "其他原因",
}
PAYMENT_EVIDENCE = {
    "bank_transfer": "银行转账凭证",
    "cash_receipt": "现金收据",
    "court_execution": "法院执行款",
    "other": "其他凭证",
}
MEDIATION_RESULTS = {
    "fulfilled": "协议履行完毕",
    "agreement": "达成协议",
    "failed": "调解不成",
    "withdrawn": "撤回申请",
    "expired": "逾期未达成协议",
    "merged": "并入群体调解",
    "handed_on": "转其他途径",
    "voided": "案件作废",
}
# Why a mediator downloads the 调解协议书 (mediation's outcomes API takes these codes).
AGREEMENT_DOWNLOAD_REASONS = {
    "case_handling": "办理案件需要",
    "legal_proceedings": "仲裁或诉讼需要",
    "supervision": "督导检查",
}
# Legal aid (services/legal_aid; events.legal_aid).
LEGAL_AID_MATTERS = {
    "labour_remuneration": "追索劳动报酬",
    "work_injury": "工伤赔偿",
    "social_insurance": "社会保险待遇",
    "employment_relationship": "确认劳动关系",
    "economic_compensation": "经济补偿、赔偿金",
    "other_labour": "其他劳动争议",
}
LEGAL_AID_SOURCES = {"triage": "分流转入", "mediation": "调解不成转入", "walk_in": "窗口申请"}
LEGAL_AID_STATUSES = {
    "awaiting_confirmation": "调解不成，待确认是否申请",
    "received": "已受理，待审查",
    "documents_requested": "已一次性告知补正材料",
    "provisional": "先行援助中",
    "granted": "已决定援助，待指派律师",
    "assigned": "已指派律师，办理中",
    "closed": "已结案",
}
LEGAL_AID_STEPS = {
    "arbitration_filed": "申请劳动仲裁",
    "arbitration_accepted": "仲裁委受理",
    "arbitration_rejected": "仲裁委不予受理",
    "hearing": "开庭审理",
    "award_extended": "仲裁延期审理",
    "award": "仲裁裁决",
    "settlement": "达成和解或调解",
    "litigation_filed": "提起诉讼",
    "judgment": "法院判决",
    "enforcement_applied": "申请强制执行",
    "enforcement_concluded": "执行完毕",
}
LEGAL_AID_CLOSURES = {
    "concluded_award": "仲裁裁决结案",
    "concluded_settlement": "和解调解结案",
    "concluded_judgment": "判决结案",
    "concluded_enforcement": "执行完毕结案",
    "withdrawn_documents": "未补正材料视为撤回",
    "withdrawn_by_worker": "职工撤回申请",
    "denied": "不予法律援助",
    "declined_by_worker": "职工不申请法律援助",
    "voided": "案件作废",
    "terminated": "终止法律援助",
}
LEGAL_AID_DECLINE_REASONS = {
    "conflict_of_interest": "存在利益冲突",
    "capacity": "承办案件已满",
    "expertise": "非擅长领域",
    "unavailable": "无法按期承办",
    "other": "其他原因",
}
# Why aid was refused (reason codes of legal_aid.denied), as the worker is told.
LEGAL_AID_DENIAL_REASONS = {
    "out_of_scope": "申请事项不属于法律援助法第三十一条或工会法律援助的援助范围",
    "income_above_standard": "家庭人均月收入高于当地法律援助经济困难标准",
}
AUDIT_OUTCOMES = {"success": "成功", "denied": "被拒绝", "failed": "失败"}
# Why a person read personal data (the reason code chosen on the page that reveals it).
AUDIT_REASONS = {
    "contact_worker": "联系职工",
    "verify_identity": "核实身份",
    "case_handling": "办理案件需要",
    "legal_proceedings": "仲裁或诉讼需要",
    "supervision": "督导检查",
}


# ---------------------------------------------------------------- the case file (issue 16)
# A case's status as people say it, whichever service holds the case now (``case_status``).
CASE_STATUSES = {
    "received": "已受理",
    "triaged": "已分流",
    "mediation": "调解中",
    "legal_aid": "法律援助中",
    "closed": "已结案",
    "voided": "已作废",
}
# Why a statutory clock needs a person (StatutoryClock.review; triage and legal_calendar).
CLOCK_REVIEWS = {
    "start_unknown": "未记录知道或应当知道权利受侵害的日期，无法计算，待核实",
    "make_up_workday": "届满日为调休上班日，待核实",
    "calendar_missing": "届满日所在年度节假日安排未录入，待核实",
    "calendar_unverified": "节假日安排尚未与国务院通知核对，待核实",
    "limitation_expired": "时效已届满，待核实有无中断、中止情形",
}
# A case whose worker has consented to no sharing (CONSENT_SCOPES) says so.
NO_CONSENT = "未取得共享同意"
# Each person's work queues (projection's /queues).
QUEUES = {
    "mine": "我的案件",
    "review": "待核实",
    "at_risk": "时限预警",
    "unassigned": "待分配",
}


def case_status(*, voided: bool, route: str | None, handling: str | None = None) -> str:
    """A case's status code (``CASE_STATUSES``) from what the events say about it.

    Voided wins over everything. Then where mediation and legal aid stand (``handling``,
    projection.handling): an application still open is 法律援助中, else a mediation still
    open is 调解中, else one that ended with the case in it is 已结案. Without either, a case
    with no decision is received; a decision routes it to mediation or legal aid (in
    progress there until they say otherwise), answers it on the spot (closed: a
    consultation needs nothing more) or refers it elsewhere (triaged).
    """
    if voided:
        return "voided"
    if handling is not None:
        return handling
    if route is None:
        return "received"
    if route in ("mediation", "legal_aid"):
        return route
    if route == "consultation":
        return "closed"
    return "triaged"


def case_status_label(*, voided: bool, route: str | None, handling: str | None = None) -> str:
    return CASE_STATUSES[case_status(voided=voided, route=route, handling=handling)]


def district_problem(code: str) -> str | None:
    """Why ``code`` is not one of the union's districts, or None when it is."""
    if code in DISTRICTS:
        return None
    known = "、".join(f"{name}（{c}）" for c, name in DISTRICTS.items())
    return f"区县代码 {code} 不在本市区县表中，请选择：{known}"


def status_label(status: str) -> str:
    return STATUSES.get(status, status)


def all_labels() -> dict[str, Any]:
    """Every table, for pages that show codes (served as JSON)."""
    return {
        "channels": CHANNELS,
        "categories": CATEGORIES,
        "urgencies": URGENCIES,
        "routes": ROUTES,
        "route_details": ROUTE_DETAILS,
        "clocks": CLOCKS,
        "statuses": STATUSES,
        "decision_kinds": DECISION_KINDS,
        "roles": ROLES,
        "districts": DISTRICTS,
        "mobile_search_reasons": MOBILE_SEARCH_REASONS,
        "reveal_reasons": REVEAL_REASONS,
        "contact_methods": CONTACT_METHODS,
        "contact_outcomes": CONTACT_OUTCOMES,
        "consent_scopes": CONSENT_SCOPES,
        "consent_obtained_by": CONSENT_OBTAINED_BY,
        "void_reasons": VOID_REASONS,
        "review_resolutions": REVIEW_RESOLUTIONS,
        "case_statuses": CASE_STATUSES,
        "clock_reviews": CLOCK_REVIEWS,
        "queues": QUEUES,
        "organisations": ORGANISATIONS,
        "mediation_statuses": MEDIATION_STATUSES,
        "mediation_clocks": MEDIATION_CLOCKS,
        "mediation_closed_results": MEDIATION_CLOSED_RESULTS,
        "room_kinds": ROOM_KINDS,
        "session_statuses": SESSION_STATUSES,
        "session_move_reasons": SESSION_MOVE_REASONS,
        "no_show_parties": NO_SHOW_PARTIES,
        "assignment_sources": ASSIGNMENT_SOURCES,
        "agreement_items": AGREEMENT_ITEMS,
        "court_bases": COURT_BASES,
        "confirmation_rulings": CONFIRMATION_RULINGS,
        "failure_reasons": FAILURE_REASONS,
        "next_steps": NEXT_STEPS,
        "withdrawn_by": WITHDRAWN_BY,
        "withdrawal_reasons": WITHDRAWAL_REASONS,
        "payment_evidence": PAYMENT_EVIDENCE,
        "agreement_download_reasons": AGREEMENT_DOWNLOAD_REASONS,
    }
