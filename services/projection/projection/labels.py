"""Chinese labels for codes shown to supervisors."""

CHANNELS = {"hotline": "12351热线", "wechat": "微信公众号", "walk_in": "来访窗口"}
CATEGORIES = {
    "wage_arrears": "拖欠工资",
    "termination": "解除劳动关系/经济补偿",
    "no_written_contract": "未签书面劳动合同",
    "overtime": "加班",
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
    "referral": "转办",
}
# Districts of the demo city (Shenzhen, GB/T 2260); unknown codes show as the code itself.
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
ROUTE_DETAILS = {
    "consultation.answered": "当场解答",
    "mediation.union": "工会调解",
    "mediation.court_union_room": "法院—工会劳动争议诉调对接工作室",
    "mediation.labour_bureau": "人社部门调解",
    "mediation.industry_committee": "行业性劳动争议调解委员会",
    "legal_aid.union": "工会法律援助",
    "referral.labour_inspection": "转劳动保障监察",
    "referral.arbitration": "转劳动人事争议仲裁",
    "referral.court": "转人民法院",
}
CLOCKS = {
    "arbitration_limitation": "仲裁时效",
    "mediation_window": "调解期限",
    "legal_aid_review": "法律援助审查期限",
    "injury_recognition_employer": "用人单位申请工伤认定期限",
    "injury_recognition_worker": "职工或工会申请工伤认定期限",
}
# A statutory deadline as of today. A period that has run out is never shown as days
# overdue: a limitation period may have been interrupted or suspended (劳动争议调解仲裁法
# Art.27), which a person must check.
DEADLINE_STATES = {
    "running": "未届满",
    "at_risk": "即将届满",
    "expired": "已届满，待人工核实",
}
# A case's status until mediation and legal aid publish their own events: where triage sent it.
STATUSES = {
    "awaiting_triage": "待分流",
    "consultation": "已当场解答",
    "mediation": "已转调解",
    "legal_aid": "已转法律援助",
    "referral": "已转办",
}
INDUSTRY_UNKNOWN = "未填写行业"
UNTRIAGED = "待分流"
