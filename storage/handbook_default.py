"""The handbook a new union starts with, in both languages (`storage.handbook.ensure_default`).

Member rights, hardship assistance, legal aid, joining and dues, contacts, FAQ:
what members of a Chinese workplace union ask first. Admins edit it from the chat.
Bodies are safe HTML (plain text here); ids are fixed so two instances starting
at once insert it once (the second one's insert conflicts and is dropped).
"""

from __future__ import annotations

# (id, title_zh, title_en)
TOPICS = [
    (1, "会员权益", "Member rights"),
    (2, "困难职工帮扶", "Hardship assistance"),
    (3, "法律援助", "Legal aid"),
    (4, "入会与会费", "Joining and dues"),
    (5, "联系方式", "Contacts"),
    (6, "常见问题", "FAQ"),
]

# (id, topic, title_zh, title_en, body_zh, body_en)
ENTRIES = [
    (
        1,
        1,
        "会员享有哪些权益",
        "What members are entitled to",
        "作为工会会员，您享有：\n• 参加工会组织的文体活动、技能竞赛和职业培训；\n"
        "• 节日慰问、生日祝福和困难帮扶；\n• 对工会工作提出批评和建议，参与民主管理；\n"
        "• 在劳动权益受到侵害时，请求工会给予保护和法律援助。",
        "As a union member you may:\n• take part in the union's cultural and sports activities, "
        "skill competitions and vocational training;\n• receive holiday and birthday greetings "
        "and hardship assistance;\n• criticise the union's work, make suggestions and take part "
        "in democratic management;\n• ask the union for protection and legal aid when your "
        "labour rights are infringed.",
    ),
    (
        2,
        1,
        "节日慰问与生日福利",
        "Holiday gifts and birthday benefits",
        "工会在春节、端午、中秋等传统节日向会员发放慰问品，会员生日当月可领取生日福利。"
        "发放时间和领取地点以工会通知为准。",
        "The union gives members gifts at the Spring Festival, Dragon Boat and Mid-Autumn "
        "festivals, and a birthday benefit in the month of their birthday. Times and places "
        "are announced by the union.",
    ),
    (
        3,
        2,
        "如何申请困难职工帮扶",
        "How to apply for hardship assistance",
        "因本人或家庭成员患重病、遭遇意外、家庭收入低于当地最低生活标准等原因生活困难的会员，"
        "可以申请帮扶：\n1. 向所在部门工会小组或工会办公室提出申请；\n"
        "2. 填写《困难职工帮扶申请表》，附收入证明、诊断证明等材料；\n"
        "3. 工会核实后在 15 个工作日内答复，帮扶资金直接发放到本人账户。\n"
        "申请信息严格保密。",
        "Members in hardship (serious illness of themselves or family, an accident, household "
        "income below the local minimum) may apply for assistance:\n1. apply to your "
        "department's union group or the union office;\n2. fill in the hardship assistance "
        "form, with proof of income or a medical certificate;\n3. the union checks and answers "
        "within 15 working days; the money is paid into your own account.\n"
        "Applications are kept confidential.",
    ),
    (
        4,
        2,
        "大病医疗互助",
        "Mutual aid for serious illness",
        "参加职工医疗互助的会员住院治疗后，医保报销以外的自付部分可按规定申请互助金。"
        "请在出院后 90 天内把出院小结和费用清单交到工会办公室。",
        "Members in the mutual medical aid scheme may claim part of what health insurance did "
        "not cover after a hospital stay. Bring the discharge summary and the bill to the "
        "union office within 90 days of leaving hospital.",
    ),
    (
        5,
        3,
        "劳动争议法律援助",
        "Legal aid in labour disputes",
        "遇到劳动合同、加班、社保、工伤等劳动争议，工会可以免费提供法律咨询，"
        "必要时协助申请劳动仲裁并指派律师代理。请带好劳动合同、工资条等材料到工会办公室，"
        "或拨打职工服务热线 12351。",
        "In a labour dispute (contract, overtime, social insurance, work injury) the union "
        "gives free legal advice and, when needed, helps you go to labour arbitration with a "
        "lawyer it appoints. Bring your contract and payslips to the union office, or call "
        "the workers' hotline 12351.",
    ),
    (
        6,
        3,
        "工资被拖欠怎么办",
        "What to do when wages are not paid",
        "工资被拖欠或克扣时：\n1. 保存工资条、考勤记录、聊天记录等证据；\n"
        "2. 可以通过本机器人的“📝 提交诉求”匿名反映，工会会跟进；\n"
        "3. 也可以向劳动保障监察部门投诉或申请劳动仲裁，工会提供法律援助。",
        "When wages are late or cut:\n1. keep payslips, attendance records and messages as "
        "evidence;\n2. you can tell the union anonymously through this bot's grievances, and "
        "the union follows it up;\n3. you can also complain to the labour inspectorate or go "
        "to labour arbitration, with the union's legal aid.",
    ),
    (
        7,
        4,
        "如何加入工会",
        "How to join the union",
        "与单位建立劳动关系的职工，不分民族、性别、户籍、用工形式，都可以申请加入工会。"
        "填写入会申请书交给部门工会小组，经审核后即成为会员，领取会员证。",
        "Every worker employed here may join, whatever their ethnicity, sex, household "
        "registration or kind of contract. Hand the membership application to your "
        "department's union group; once it is approved you are a member and get a card.",
    ),
    (
        8,
        4,
        "会费怎么缴纳",
        "How union dues are paid",
        "会员每月按本人工资收入的 0.5% 缴纳会费，由单位财务在发放工资时代扣代缴。"
        "会费用于会员活动和帮扶，收支情况每年向会员公开。",
        "Members pay 0.5% of their monthly wage as dues, deducted by payroll. Dues fund "
        "members' activities and assistance; the accounts are published to members every year.",
    ),
    (
        9,
        5,
        "工会办公室联系方式",
        "Union office contacts",
        "工会办公室：行政楼 2 楼 201 室\n办公时间：工作日 8:30–17:30\n"
        "职工服务热线：12351\n值班电话：请以工会公告为准。",
        "Union office: Administration building, 2nd floor, room 201\n"
        "Opening hours: working days 8:30–17:30\nWorkers' hotline: 12351\n"
        "Duty phone: see the union's announcements.",
    ),
    (
        10,
        6,
        "匿名反映问题会被知道是谁吗",
        "Will anyone know who sent an anonymous grievance?",
        "不会。通过“📝 提交诉求”发送的内容以编号转给工会干部，干部看不到您的姓名和账号，"
        "数据库中的对应关系也经过加密。请不要在内容里写自己的名字。",
        "No. A grievance reaches cadres under its case code; they never see your name or "
        "account, and the link in the database is encrypted. Do not write your name in it.",
    ),
    (
        11,
        6,
        "怎么修改个人资料",
        "How do I change my profile?",
        "发送 /profile 可以修改姓名、部门、生日和语言；发送 /forget 可以删除您的个人资料。",
        "Send /profile to change your name, department, birthday and language; send /forget "
        "to delete your personal data.",
    ),
]

# (entry, related)
LINKS = [(6, 5), (5, 6), (7, 8), (8, 7), (3, 4), (10, 11)]
SYNONYMS = [
    (1, "工资 薪酬 薪水 薪资 wage salary pay"),
    (2, "帮扶 救助 补助 困难 hardship assistance"),
    (3, "法律 律师 维权 仲裁 legal lawyer"),
    (4, "会费 dues fee"),
    (5, "电话 联系 热线 contact phone"),
]
