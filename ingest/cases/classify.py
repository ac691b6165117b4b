"""Dispute-type classifier: keyword evidence plus routing by the laws and articles a case cites."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.records import DISPUTE_TYPES, Citation


def _weighted(spec: str) -> tuple[tuple[str, float], ...]:
    """``"离婚:3 结婚:2"`` → ``(("离婚", 3.0), ("结婚", 2.0))``."""
    return tuple((w, float(n)) for w, _, n in (item.partition(":") for item in spec.split()))


# Keywords per type as "word:weight"; matched on the case's facts/question and title.
KEYWORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "婚姻家庭": _weighted(
        "离婚:3 结婚:2 婚姻:2 夫妻:2 彩礼:3 抚养:2 抚养费:3 探视:3 探望:2 赡养:3 家暴:3 家庭暴力:3 老公:2 老婆:2 丈夫:2 妻子:2 "
        "配偶:2 婚前:2 婚后:2 重婚:3 收养:3 孩子归:2 同居:2 出轨:3 小三:3 分居:2 男朋友:1 女朋友:1 前妻:2 前夫:2 领证:2 结婚证:3 "
        "户口:1 亲子鉴定:3 监护:1"
    ),
    "继承": _weighted(
        "继承:3 遗产:3 遗嘱:4 遗赠:3 去世:1 过世:1 死亡:1 房产证上是父:1 老人留下:2 法定继承:3 继承人:3"
    ),
    "邻里关系": _weighted(
        "邻居:3 邻里:3 楼上:2 楼下:2 噪音:2 噪声:2 漏水:2 采光:3 通风:2 通行:2 后窗:2 开窗:2 淹了:2 排水:2 相邻:3 扰民:3 油烟:2 "
        "养狗:1 装修:1 堵路:2 挡光:3 隔壁:2"
    ),
    "房屋宅基地": _weighted(
        "宅基地:4 房产证:2 房屋买卖:3 购房:2 买房:2 二手房:3 过户:2 拆迁:3 征收:2 安置:2 房屋:1 房子:1 不动产:2 租房:3 房东:2 租金:2 "
        "租赁:2 承租:2 退租:3 商铺:2 出租方:2 房租:2 卖房:2 售楼:2 开发商:2 商品房:2 建房:2 小产权:3 产权:1 房款:2"
    ),
    "土地承包": _weighted(
        "土地承包:4 承包地:4 承包经营:3 流转:2 责任田:3 耕地:2 林地:2 村集体:2 集体经济组织:2 征地:2 土地补偿:3 种地:2 农村土地:3 地租:2"
    ),
    "合同借贷": _weighted(
        "借款:3 借钱:3 欠款:2 欠钱:3 借条:3 欠条:3 还款:2 利息:2 贷款:2 担保:2 合同:1 违约:2 定金:2 订金:2 货款:2 民间借贷:4 债务:1 "
        "债权:1 催收:2 信用卡:2 转账:1 承揽:2 保理:3 合伙:2 股东:1 网贷:2 借了:2 借给:2 还钱:3 没还:2 股份:2 退股:3 欠我:2"
    ),
    "损害赔偿": _weighted(
        "赔偿:1 受伤:2 打伤:3 打人:3 殴打:3 伤残:2 人身损害:3 侵权:2 名誉:3 诽谤:3 隐私:2 肖像:3 狗咬:3 被狗:3 高空:3 坠物:3 摔倒:2 "
        "精神损害:2 财产损害:2 损坏:2 体育活动:2 人格权:3 打架:3 伤害:2 轻伤:3 轻微伤:3 咬伤:3 医药费:1.5 骨折:2 狗:1.5"
    ),
    "劳动劳务": _weighted(
        "劳动合同:4 工资:3 加班:3 辞退:3 开除:3 离职:3 辞职:3 社保:1.5 社会保险:1.5 工伤:4 绩效:3 奖金:2 公司:1 厂里:2 辞工:3 "
        "产假:3 调岗:3 工钱:3 劳动仲裁:4 用人单位:3 劳动者:3 经济补偿:3 试用期:3 包工头:3 劳务:3 上班:2 员工:2 老板:1 单位:1 入职:3 "
        "解雇:3 五险一金:3 公积金:2 年假:3 退休:1 养老金:1 劳动关系:3 农民工:3 欠薪:4 拖欠工资:4"
    ),
    "物业服务": _weighted(
        "物业:4 物业费:4 业主委员会:3 业委会:3 停车位:2 车位:2 公共区域:2 电梯:2 小区:1 维修资金:3"
    ),
    "消费维权": _weighted(
        "消费者:3 退货:3 退款:2 假货:3 三包:3 质量问题:2 商家:2 网购:3 网店:3 淘宝:3 购物:2 食品:2 过期:2 保质期:3 欺诈:2 惩罚性赔偿:3 "
        "退一赔三:4 十倍:3 预付卡:3 会员卡:3 健身卡:3 美容:2 医美:3 培训机构:2 外卖:2 快递:2 超市:2 经营者:2 售后:3 买到:2 旅游:2 "
        "影楼:2 App:1"
    ),
    "道路交通": _weighted(
        "交通事故:4 车祸:4 撞:2 驾驶:2 驾照:3 驾驶证:3 酒驾:4 醉驾:4 肇事:3 交警:3 机动车:3 电动车:2 交强险:4 逃逸:3 行人:2 开车:2 "
        "搭乘:2 搭车:2 闯红灯:3 超速:3 汽车:1 事故:2 刹车:2 变道:3 公交车:2 电瓶车:2 撞人:3"
    ),
    "其他": _weighted(
        "户口:2 户籍:2 迁户:3 取保候审:3 个人所得税:3 举报:2 罚款:1 刑事:2 判刑:2 拘留:1 医保:2 养老保险:1.5 公积金:1 诈骗:1 犯罪:2 "
        "注销:2"
    ),
    "医疗纠纷": _weighted(
        "医院:2 医疗:2 医生:3 手术:3 误诊:4 医疗事故:4 治疗:2 病历:3 患者:3 护士:2 医保:1 诊所:3 药:1 用药:2"
    ),
}

# Law → type, for laws whose subject is one dispute type.
LAW_TYPES: dict[str, str] = {
    "劳动合同法": "劳动劳务",
    "劳动法": "劳动劳务",
    "劳动合同法实施条例": "劳动劳务",
    "劳动争议调解仲裁法": "劳动劳务",
    "工伤保险条例": "劳动劳务",
    "保障农民工工资支付条例": "劳动劳务",
    "工资支付暂行规定": "劳动劳务",
    "公司法": "合同借贷",
    "刑法": "其他",
    "户口登记条例": "其他",
    "个人所得税法": "其他",
    "治安管理处罚法": "其他",
    "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）": "劳动劳务",
    "道路交通安全法": "道路交通",
    "道路交通安全法实施条例": "道路交通",
    "最高人民法院关于审理道路交通事故损害赔偿案件适用法律若干问题的解释": "道路交通",
    "消费者权益保护法": "消费维权",
    "产品质量法": "消费维权",
    "食品安全法": "消费维权",
    "电子商务法": "消费维权",
    "物业管理条例": "物业服务",
    "最高人民法院关于审理物业服务纠纷案件适用法律若干问题的解释": "物业服务",
    "农村土地承包法": "土地承包",
    "农村土地承包经营纠纷调解仲裁法": "土地承包",
    "土地管理法": "房屋宅基地",
    "城市房地产管理法": "房屋宅基地",
    "国有土地上房屋征收与补偿条例": "房屋宅基地",
    "医疗纠纷预防和处理条例": "医疗纠纷",
    "医疗事故处理条例": "医疗纠纷",
    "最高人民法院关于审理医疗损害责任纠纷案件适用法律若干问题的解释": "医疗纠纷",
    "婚姻法": "婚姻家庭",
    "收养法": "婚姻家庭",
    "反家庭暴力法": "婚姻家庭",
    "最高人民法院关于适用民法典婚姻家庭编的解释（一）": "婚姻家庭",
    "最高人民法院关于审理涉彩礼纠纷案件适用法律若干问题的规定": "婚姻家庭",
    "继承法": "继承",
    "最高人民法院关于适用民法典继承编的解释（一）": "继承",
    "最高人民法院关于审理民间借贷案件适用法律若干问题的规定": "合同借贷",
    "合同法": "合同借贷",
    "担保法": "合同借贷",
    "侵权责任法": "损害赔偿",
    "最高人民法院关于审理人身损害赔偿案件适用法律若干问题的解释": "损害赔偿",
    "最高人民法院关于确定民事侵权精神损害赔偿责任若干问题的解释": "损害赔偿",
    "噪声污染防治法": "邻里关系",
    "环境噪声污染防治法": "邻里关系",
}

# 民法典 article ranges → type (the code's parts and chapters).
CIVIL_CODE_RANGES: tuple[tuple[int, int, str], ...] = (
    (271, 287, "物业服务"),  # 建筑物区分所有权
    (288, 296, "邻里关系"),  # 相邻关系
    (330, 343, "土地承包"),  # 土地承包经营权
    (344, 365, "房屋宅基地"),  # 建设用地使用权、宅基地使用权
    (366, 371, "房屋宅基地"),  # 居住权
    (386, 424, "合同借贷"),  # 担保物权
    (
        463,
        666,
        "合同借贷",
    ),  # 合同通则、买卖、赠与等 (half weight: also governs leases, sales of houses)
    (667, 680, "合同借贷"),  # 借款合同
    (681, 702, "合同借贷"),  # 保证合同
    (703, 734, "房屋宅基地"),  # 租赁合同
    (735, 936, "合同借贷"),
    (937, 950, "物业服务"),  # 物业服务合同
    (951, 1039, "损害赔偿"),  # 准合同、人格权
    (1040, 1118, "婚姻家庭"),
    (1119, 1163, "继承"),
    (1164, 1207, "损害赔偿"),
    (1208, 1217, "道路交通"),  # 机动车交通事故责任
    (1218, 1228, "医疗纠纷"),  # 医疗损害责任
    (1229, 1258, "损害赔偿"),
)

_TEXT_WEIGHT = 1.0
_LAW_WEIGHT = 3.0


@dataclass(frozen=True)
class Classification:
    dispute_type: str
    score: float
    evidence: tuple[str, ...]  # keywords and laws that decided it


def _law_type(c: Citation) -> str | None:
    if not c.law:
        return None
    if c.law == "民法典" and c.article.isdigit():
        n = int(c.article)
        for lo, hi, t in CIVIL_CODE_RANGES:
            if lo <= n <= hi:
                return t
        return None
    return LAW_TYPES.get(c.law)


def classify(text: str, citations: Sequence[Citation] = (), *, title: str = "") -> Classification:
    """Pick one of ``DISPUTE_TYPES`` for a case.

    Scores each type by weighted keyword hits in ``title`` + ``text`` (the
    facts or the question) and by the laws the case cites (each cited
    article votes once for the type its law or 民法典 chapter belongs to).
    ``其他`` when nothing matches.
    """
    scores: Counter[str] = Counter()
    evidence: dict[str, list[str]] = {t: [] for t in DISPUTE_TYPES}
    body = f"{title}\n{title}\n{text}"
    for t, words in KEYWORDS.items():
        for w, weight in words:
            n = body.count(w)
            if n:
                scores[t] += _TEXT_WEIGHT * weight * min(n, 3) ** 0.5
                evidence[t].append(w)
    seen: set[tuple[str | None, str]] = set()
    for c in citations:
        if (c.law, c.article) in seen:
            continue
        seen.add((c.law, c.article))
        routed = _law_type(c)
        if routed and c.law:
            general = c.law == "民法典" and c.article.isdigit() and 463 <= int(c.article) <= 666
            weight = _LAW_WEIGHT * (0.5 if general else 1.0)
            scores[routed] += weight / max(1, len(citations)) ** 0.5
            evidence[routed].append(f"{c.law}{c.article}")
    if not scores:
        return Classification("其他", 0.0, ())
    best, score = max(scores.items(), key=lambda kv: (kv[1], -DISPUTE_TYPES.index(kv[0])))
    if score < 1.5:
        return Classification("其他", score, tuple(evidence[best]))
    return Classification(best, score, tuple(evidence[best]))
