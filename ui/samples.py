"""Sample questions, one list: the ask page's examples, and what tests and benchmarks ask.

``EXAMPLES`` are the buttons under the ask page's empty question box (a citation last:
it opens the article's page); ``QUESTIONS`` are everyday questions in a mediator's words
plus citations, which the load and UI benchmarks and the page tests ask; ``SHORT`` the
short wording the retrieval benchmarks time.
"""

from __future__ import annotations

EXAMPLES = (
    "男方不同意离婚，女方可以怎么办？",
    "邻居装修噪音很大，晚上也施工，怎么处理？",
    "老板拖欠工资不给，怎么维权？",
    "民法典第1079条",
)
QUESTIONS = (
    "男方不同意离婚，女方可以怎么办？",
    "邻居装修噪音很大，晚上也施工，怎么处理？",
    "老板拖欠工资不给，怎么维权？",
    "父母去世没有遗嘱，房子怎么分？",
    "借钱给朋友没写借条，他不还怎么办？",
    "物业公司不管楼道漏水，业主能不交物业费吗？",
    "被狗咬伤了，狗主人要赔偿吗？",
    "宅基地边界有争议，村里调解不成怎么办？",
    "楼上漏水把我家天花板泡坏了，找谁赔？",
    "工地上受伤了，包工头不管，怎么办？",
)
CITATIONS = ("民法典第1079条", "婚姻法第32条")
"""Questions that are only a citation: the page opens the article's citation page."""
SHORT = (
    "老公打我怎么办",
    "包工头跑了工资谁给",
    "邻居装修噪音很大晚上也施工",
    "宅基地边界有争议",
    "彩礼要退吗",
    "离婚孩子归谁",
    "借钱不还有借条",
    "电动车撞了人谁赔",
    "楼上漏水泡坏了我家",
    "公司不签劳动合同",
    "工伤老板不认",
    "房东不退押金",
    "父母赡养费怎么分",
    "遗嘱有效吗",
    "狗咬人主人要赔吗",
    "租的房子被卖了",
    "加班费不给",
    "网购买到假货",
    "邻居占了我的路",
    "婚前买的房离婚怎么分",
)
"""Short lay wording as a mediator types it (the retrieval and query-encoder benchmarks;
lawbench-3-8's consultations average 58 characters, these about 8)."""
