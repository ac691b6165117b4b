"""Sample questions, one list: the ask page's examples, and what tests and benchmarks ask.

``EXAMPLES`` are the buttons under the ask page's empty question box (a citation last:
it opens the article's page); ``QUESTIONS`` are everyday questions in a mediator's words
plus citations, which the load and UI benchmarks and the page tests ask.
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
