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
