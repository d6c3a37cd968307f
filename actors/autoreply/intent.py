"""Does a question ask for a person? An intent layer in front of retrieval.

Retrieval matches words; asking for a person is said in more ways than a
list of phrases can hold ("有没有活人啊", "stop the bot, i want a person") and
its words also appear in questions that are not requests ("人工智能是什么",
"不要人工", "when can i reach an agent"). So the request is recognised by its
parts: a word for a person, not negated, not inside a question about when
someone is there (business hours is an entry of the knowledge base).

The patterns run on ``text.normalise``d text (Simplified, lower case).
"""

from __future__ import annotations

import re

# 人工 is the person only alone or before a word of service or a particle
# ("转人工", "人工服务", "人工在吗"): before any other Han character it begins
# another word (人工智能, 人工湖, 人工费, 人工呼吸), which no list could hold.
_AFTER_RENGONG = r"(?=$|[^\u3400-\u9fff]|客服|服务|坐席|座席|接待|处理|帮|[的吗呢啊吧呀了哦来在谢])"
RENGONG = "人工" + _AFTER_RENGONG
# 真人 is the person before a word of service or talk, or a particle: not in
# 真人秀, 真人大小, 真人语音, 真人模特.
_AFTER_ZHENREN = (r"(?=$|[^\u3400-\u9fff]|客服|服务|小哥哥|小姐姐|对话|沟通|解答|介入"
                  r"|[来过在帮聊说谈讲处回接跟和看的吗呢啊吧呀了哦谢])")
_OTHER_RENGONG = re.compile("人工(?!" + _AFTER_RENGONG + ")")
# A verb of asking or reaching, before a word for a person.
_ZH_VERB = r"(?:[转找要接叫换求让请有跟和给需]|呼叫|安排|交给|接通|申请|联系|咨询|可以|能)"
# Words for a person. 人工 and 真人 with a verb of asking, a "where are you",
# or nearly alone, since "你们人工客服在哪个城市" and "真人大小" ask for
# nobody; 客服 and 经理 only with a verb of asking or a "where are you", since
# "我想当客服" is about a job; 请 only when it is not 请问 ("may I ask");
# 投诉 (a complaint, which is for a person) only when someone makes it.
_ZH_PERSON = re.compile(
    _ZH_VERB + r"\S{0,4}(?:" + RENGONG + "|真人" + _AFTER_ZHENREN + ")"
    r"|(?:人工|真人)(?:客服|服务|坐席|座席)?(?:在吗|在不在|在哪|在线|有吗|呢|出来|处理|介入|来|帮"
    r"|回复我|回我|怎么找|怎么联系)"
    r"|活人|人呢|有人[吗么在]|有没有人|[找叫来换要]个?人"
    r"|(?:[找转叫要接让派]|请(?!问))\S{0,3}(?:客服|经理|主管|领导|工作人员|负责人|专员|人员)"
    r"|找个\S{0,5}的人"
    r"|[找叫让请换]\S{0,3}(?:你们|贵司|公司|店里)(?:公司)?的?人"
    r"(?:(?![\u3400-\u9fff])|(?=来|处理|跟|和|联系|出来))"
    r"|安排\S{0,2}(?:客服|专员)|安排\S{0,2}人(?:联系|处理|跟进|对接)"
    r"|(?:客服|经理|主管|工作人员)\S{0,3}(?:呢|在吗|在不在|出来)|有客服"
    r"|(?:要|想|我)投诉|投诉(?:你们|他|她|客服)")
# Not wanting the bot is wanting a person.
_ZH_NOT_BOT = re.compile(r"(?:不想|不要|别|不和|不跟)\S{0,3}机器人")
# A negation reaches the person only through "给我/帮我/再" and the verb it
# governs ("别给我转人工", "不用转人工了"), or one character ("懒得等人工"):
# "别废话转人工" and "不是很懂，要人工" ask; 特别 is no 别.
_ZH_NEGATED = re.compile(
    r"(?:不要|不用|不需要|无需|不必|(?<!特)别|不是|不找|不转|懒得)(?:给我|帮我|再|去)?"
    r"(?:[转找接叫要]|转接)?\S?(?:人工|真人|客服|投诉|(?<=[叫找])人)")
# 人工 or 真人 said nearly alone: "人工！！", "真人客服", "人工服务 pls".
_ZH_ALONE = re.compile(r"^\W*(?:请|麻烦|可以|能不能|能|可不可以)?(?:人工|真人)+"
                       r"(?:客服|服务|坐席|座席)?(?:[的吗呢啊吧呀了哦]|谢谢|pls|please|\W)*$")
_ZH_ASKING = re.compile(r"[找转叫要接让派]|请(?!问)|安排")
# English words are bounded by anything but a Latin letter, not by \b: Han
# characters are word characters to \b, and "我要找agent" must still match.
_EN_PERSON = re.compile(
    r"(?<![a-z])(?:humans?|persons?|(?:real|live|actual) people|agents?|someone|somebody"
    r"|anyone|anybody|representatives?|reps?|operators?|managers?|supervisors?|staff"
    r"|customer service|customer support|support team|team members?|live chat)(?![a-z])")
# An English word for a person is a request in a request's frame, within its
# clause: a verb of asking or reaching before it ("talk to", "get me", "is
# there"), or after it a verb of contact or a word of presence ("can a team
# member call me", "anybody around?"); or said nearly alone ("agent!!", "real
# person pls"). Elsewhere it is a word of another sentence: "what does human
# resources do", "the manager said i could get a refund", "for my manager".
_EN_BEFORE = re.compile(
    r"(?<![a-z])(?:talk|speak|chat|connect|transfer|escalate|switch|put me|get|give|let me"
    r"|pass|hand|bring|send|need|want|wanna|like to|(?:would|d) like|prefer|have|demand"
    r"|request|is there|are there)(?![a-z])")
_EN_AFTER = re.compile(
    r"^(?:\W+\w+){0,3}?\W+(?:call|contact|help|look at|reach|phone|email|get back|there|here"
    r"|around|available|online|on duty)(?![a-z])")
_EN_COMPOUND = re.compile(
    r"(?<![a-z])(?:human (?:resources|rights|error|nature|body|race)"
    r"|(?:secret|estate|travel|insurance|sales|double|free|user|customs) agents?"
    r"|(?:my|his|her|our|their) (?:\w+ )?(?:agent|rep|manager|supervisor|staff)s?"
    r"|people (?:say|think|said)|in person"
    # The person as a topic: "a complaint about one of your staff", "a
    # discount for healthcare staff".
    r"|(?<!ask )(?<!asking )(?<!asked )(?<!looking )(?<!wait )(?<!waiting )"
    r"(?:about|for) (?:one of )?(?:your |the |an? )?(?:\w+ )?(?:staff|agents?|reps?|humans?"
    r"|persons?|people|managers?|supervisors?)"
    # A person in a plan or an account: "add a team member", "gift to someone".
    r"|(?:add|adding|remove|removing|invite|gift|share)\w*(?: \w+){0,2}? (?:someone|somebody"
    r"|team members?|people|staff|users?))(?![a-z])")
_EN_FILLER = frozenset(
    "a an the real live actual actually please pls plz now asap hi hello hey ok okay i me my "
    "you u your to with w can could would just some one any thanks thx oh support being"
    .split())
_EN_WORD = re.compile("[a-z]+")
_CLAUSES = re.compile(r"[,.!?;:，。！？；]+")
# A negation reaches a person within its clause only: "no, i want a human" asks.
_EN_NEGATED = re.compile(
    r"(?<![a-z])(?:no|not|dont|don't|do not|never|no need for)(?![a-z])"
    r"(?:[^\w.,!?;:，。！？；]+\w+){0,5}?[^\w.,!?;:，。！？；]+"
    r"(?:human|person|agent|someone|somebody|anyone|anybody|representative|operator"
    r"|customer service|customer support)(?![a-z])")
# Asking what the bot is ("are you a human being?") is not asking for one.
# Nor is saying what one is oneself ("i'm a real person", "我是真人").
_ABOUT_BOT = re.compile(r"\bare (?:you|u) (?:a |an )?(?:real )?(?:human|person|bot|robot)"
                        r"|你是(?:不是)?(?:真人|人工|机器人|人)"
                        r"|\bi(?: am|'m|m) (?:a |an )?(?:real )?(?:human|person)"
                        r"|我(?:自己)?(?:也|就)?是(?:个|一名|一个)?(?:真人|活人|人|客服)"
                        r"|我是(?:(?![找转叫要让请想安派换帮给联])\S){0,8}(?:客服|专员|经理|主管|人员)"
                        r"|\b(?:human|person|people)s? or (?:a |an )?(?:bot|robot|ai|machine)"
                        r"|\b(?:bot|robot|ai|machine)s? or (?:a |an )?(?:real )?(?:human|person)")
# Praise of a person ("刚才人工客服态度挺好的", "the agent was really helpful")
# names one without asking for one, unless a verb of asking is there too.
_PRAISE = re.compile(r"态度\S{0,2}(?:好|不错|棒)|点赞|表扬|辛苦了|(?<![a-z])(?:helpful|lovely|great"
                     r"|nice|kind|patient|rocks?)(?![a-z])")
# A greeting, and whoever it is addressed to ("hello customer service, can
# i cancel..."): the chat is greeted, no person asked for.
_GREETING = re.compile(r"[早晚中]上好|下午好|早安|晚安|good (?:morning|evening|night|afternoon)"
                       r"|(?<![a-z])(?:hello|hi|hey|dear) (?:customer (?:service|support)"
                       r"|support(?: team)?|team|staff|agents?)(?![a-z])"
                       r"(?=\s*[,.!?;:，。！？；]+\s*[\w\u3400-\u9fff])")
# Asking for a way to contact people ("客服电话多少", "customer service phone
# number") is asking for a number, not for a person here.
_CONTACT = re.compile(r"电话|邮箱|微信|热线|号码|工号"
                      r"|(?<!my )(?<!me )(?:phone number|email address|hotline)")
# A question about when people are there is the business-hours entry's, when
# the time word is in the clause that names the person ("早上好，转人工" asks).
_WHEN = re.compile(r"什么时候|几点|时间|上班|下班|周末|晚上|早上|凌晨|半夜|深夜|节假日|假期|春节"
                   r"|国庆|过年|期间|大年|除夕|初[一二三四五六七]|周[一二三四五六日天]|星期|礼拜"
                   r"|\b(?:when|hours|time|open|earliest|latest|weekends?|night|morning|midnight"
                   r"|holidays?|24/7|(?:mon|tues|wednes|thurs|fri|satur|sun)days?)(?![a-z])"
                   r"|\d(?: ?[ap]\.?m)(?![a-z])")


# Words that may name a person in a phrasing no rule knows ("让你们店长来",
# "can a specialist take this over", typos of human and agent): no rule reads
# them; the person model (engine.py) judges the questions they are in. Only
# words that name the shop's people: "boss", "member", "department", 同事 and
# "teammate" are as often the customer's own or a thing ("boss, any
# discount?", "帮我同事退款"), and the model took those for requests.
_MORE_NAMES = (r"职员|店长|管事|拍板|做主|售后|懂行|喘气|仁工|人[宫攻]"
               r"|(?<![a-z])(?:specialists?|advis[eo]rs?|in charge|whoever|hoomans?|huamn"
               r"|humn|persn|agnet|agant|sum1|some1)(?![a-z])")
_MORE = re.compile(_MORE_NAMES)


# Every rule above needs one of these: a question with none (most) is done
# with in one search (the rules, clause by clause, cost ~10 µs).
_HINT = re.compile(r"人|客服|经理|主管|领导|专员|投诉|human|person|people|agent|someone|somebody"
                   r"|anyone|anybody|rep|operator|manager|supervisor|staff|customer|support"
                   r"|team|live chat" + "|" + _MORE_NAMES)


# Words that name a person, for ``unexplained_person``: the rules' own, and
# "support" and "你们的人", which name one only in some sentences.
_ZH_NAMES = re.compile(RENGONG + r"|真人(?!秀)|活人|客服|工作人员|经理|主管|负责人|专员|人员"
                       r"|(?:你们|贵司|公司)的?人")
_EN_SUPPORT = re.compile(r"(?<![a-z])support(?![a-z])")


def names_a_person(normal: str) -> bool:
    """Whether a question may name a person at all (one search; most do not)."""
    return _HINT.search(normal) is not None


def without_declined(normal: str) -> str:
    """The question without the person it declines: "不要转人工，运费多少" is
    about shipping, and "人工" must not pull it towards business hours; nor
    must the 人工 of another word (人工智能, 人工湖)."""
    if not _HINT.search(normal):
        return normal
    text = _ZH_NEGATED.sub(" ", normal)
    if "人工" in text:
        text = _OTHER_RENGONG.sub(" ", text)
    return _EN_NEGATED.sub(" ", text)


def asks_for_person(normal: str) -> bool | None:
    """True: a request for a person. False: a person explicitly declined
    ("不要人工", "不是投诉"), by the last clause that says either. None: no
    request: no word for a person, or only in a question about hours or about
    the bot, or in praise, or in a phrasing no rule knows (``unexplained_person``)."""
    if not _HINT.search(normal):
        return None
    decided: bool | None = None
    not_bot = False
    # Each clause on its own, and the last that decides has the last word:
    # "not happy with customer service, get me a manager" and "不是投诉，我要找
    # 人工" ask, "转人工，算了，不用人工了" takes it back. Not wanting the bot
    # asks for a person unless one is declined ("不想跟机器人聊，也懒得等人工").
    for clause in _CLAUSES.split(_EN_COMPOUND.sub(" ", _GREETING.sub(" ", normal))):
        if _ZH_NEGATED.search(clause) or _EN_NEGATED.search(clause):
            decided = False
        elif _asks(clause):
            decided = True
        elif _ZH_NOT_BOT.search(clause):
            not_bot = True
    if decided is None and not_bot:
        return True
    return decided


def unexplained_person(normal: str) -> bool:
    """Whether a question the rules leave undecided (``asks_for_person`` gave
    None) still names a person, outside every construction they know to be
    no request (a compound, a question about the bot or about hours, praise):
    a phrasing the rules have not met ("transfer me to support",
    "你解答不了就让你们的人来"). The person model (engine.py) decides those."""
    if not _HINT.search(normal):
        return False
    text = _EN_COMPOUND.sub(" ", _GREETING.sub(" ", normal))
    if _ABOUT_BOT.search(text) or _PRAISE.search(text) or _WHEN.search(text):
        return False
    return bool(_EN_PERSON.search(text) or _EN_SUPPORT.search(text)
                or _ZH_NAMES.search(text) or _MORE.search(text))


def _asks(clause: str) -> bool:
    """Whether one clause asks for a person."""
    en_asks = _en_alone(clause) or _en_framed(clause)
    if not (en_asks or _ZH_PERSON.search(clause) or _ZH_ALONE.match(clause)):
        return False
    if _PRAISE.search(clause) and not (en_asks or _ZH_ASKING.search(clause)):
        return False
    if _CONTACT.search(clause) and not (_ZH_ASKING.search(clause) or "投诉" in clause
                                        or _EN_BEFORE.search(clause)):
        return False
    return not (_WHEN.search(clause) or _ABOUT_BOT.search(clause))


def _en_framed(clause: str) -> bool:
    """A word for a person after a verb of asking, or before a verb of contact."""
    for person in _EN_PERSON.finditer(clause):
        if _EN_BEFORE.search(clause, 0, person.start()) \
                or _EN_AFTER.search(clause[person.end():]):
            return True
    return False


def _en_alone(clause: str) -> bool:
    """A word for a person nearly alone in its clause ("agent!!", "real person pls")."""
    return _EN_PERSON.search(clause) is not None and all(
        word in _EN_FILLER for word in _EN_WORD.findall(_EN_PERSON.sub(" ", clause)))
