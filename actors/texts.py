"""What the CS Robot or a Shadow says on its own account, and the
placeholders each text is given (actors/config.py checks a business's texts
against them when it loads them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    """Everything the CS Robot or a Shadow says on its own account."""

    welcome: str = "您好，欢迎咨询！Hello, how can we help? 输入“人工”转人工客服 / type 'human' for a person."
    fallback: str = "抱歉，我没有理解您的问题。输入“人工”转人工客服。Sorry, I did not get that; type 'human' for a person."
    no_servicer: str = "当前没有空闲的客服，请稍后再试。No servicer is available right now; please try again later."
    seat_assigned: str = "客服 {servicer_name} 为您服务。{servicer_name} will help you now."
    shadow_failed: str = "暂时无法连接人工客服，请稍后再试。We cannot reach a servicer right now; please try again later."
    already_human: str = "您已在人工服务中。You are already talking to {servicer_name}."
    idle_end: str = "由于长时间未操作，本次会话已结束。This conversation ended because it was idle."
    servicer_end: str = "客服已结束本次会话，感谢您的咨询。The servicer ended this conversation. Thank you!"
    servicer_seat: str = "新客户 {customer_name} ({customer_id}) 已接入。Reply here; write /end to finish."
    servicer_history: str = "最近记录 / Recent history:\n{history}"
    servicer_customer_left: str = "客户已离开，会话结束。The customer left; the session is closed."
    servicer_idle_end: str = "会话因空闲超时结束。The session ended after being idle."
    servicer_session_over: str = "该会话已结束。This session is over."
    servicer_ended: str = "会话已结束。You ended the session."
    duty_on: str = "已上班 (on duty): {load}/{capacity} sessions."
    duty_off: str = "已下班 (off duty). Open sessions stay with you until they end."
    duty_refused: str = "只有登记的客服可以上班。Only registered servicers can go on duty."
    duty_paused: str = "已暂停 (paused): no new customers until /on."
    auto_paused: str = "您已长时间未回复，已自动暂停接待。You were paused after {minutes} minutes without a reply; write /on to resume."
    missed_paused: str = "您已连续 {missed} 位客户未及时回复，已暂停接待。You did not answer {missed} customers in a row and are paused; write /on to resume."
    servicer_reassigned_away: str = "您未及时回复，客户已转给 {servicer_name}。You did not answer in time; the customer now goes to {servicer_name}."
    servicer_help: str = "客服指令 / commands: /on 上班, /pause 暂停, /off 下班, /help 帮助. 在客户会话中 / in a customer chat: /end 结束, /transfer <客服 id> 转接, /transfer 退回队列 / back to the queue, #名称 快捷回复 / #name a canned reply, # 列出快捷回复 / list them. 排队的客户 / waiting customers: 网页工作台的“接待下一位”即使满员也可再接一位 / 'Take next' in the web console takes one more, even when you are full."
    shadow_help: str = "会话指令 / commands here: /end 结束会话 (end), /transfer <客服 id> 转接 (to a servicer), /transfer 退回队列 (back to the queue), #名称 发送快捷回复 (#name: a canned reply), # 列出快捷回复 (list them), /help 帮助."
    customer_help: str = "直接输入您的问题即可；输入“人工”转人工客服，/help 查看帮助。Just write your question; write 'human' for a person, /help for this help."
    queued: str = "当前客服繁忙，您前面还有 {ahead} 位，预计等待{wait_zh}。All servicers are busy; you are number {position} in the queue; expected wait: {wait_en}."
    bad_priority: str = "优先级应为 0-9 的整数，已按 0 处理。A priority is a whole number from 0 to 9; 0 is used."
    leave_message_offer: str = "您可以直接留言，客服上班后会第一时间回复您。To leave a message, just write it: the first servicer on duty will answer."
    message_left: str = "留言已收到，客服上班后会回复您。Thank you: your message waits for the first servicer on duty."
    message_expired: str = "抱歉，您的留言未能及时得到回复，请稍后再试。Sorry, nobody could answer your message in time; please try again."
    queue_full: str = "当前排队人数已满，请稍后再试。The queue is full; please try again later."
    queue_timeout: str = "抱歉，等待时间过长，请稍后再试。Sorry, nobody could take your request in time; please try again later."
    offline: str = "现在是非工作时间，我们{next_open_zh}上班（{hours}）。We are closed now and open {next_open_en}."
    transferred: str = "已为您转接客服 {servicer_name}。{servicer_name} will take over now."
    servicer_transferred_away: str = "会话已转给 {servicer_name}。The session now goes to {servicer_name}."
    servicer_transferred_in: str = "{previous_name} 转来的客户 {customer_name} ({customer_id})。Transferred from {previous_name}."
    transfer_failed: str = "转接失败：{reason}。Transfer failed: {reason}."
    servicer_not_yours: str = "该会话不由您接待。This customer is served by someone else."
    rating_request: str = "请为本次服务打分（1-5）。Please rate this conversation from 1 to 5."
    rating_thanks: str = "感谢您的评价！Thank you for your rating!"
    rating_invalid: str = "请输入 1 到 5 之间的数字。Please answer with a number from 1 to 5."
    suggest: str = "您是不是想问 / Did you mean:\n{options}\n回复数字即可 / reply with a number."
    welcome_suggestions: str = "猜你想问 / You may ask:\n{options}"
    offer_human: str = "还没解决？输入“人工”转人工客服。Still stuck? Type 'human' to reach a person."
    canned_list: str = "快捷回复 / canned replies: {names}"
    canned_unknown: str = "没有快捷回复 #{name}，相近的有 {closest}。No canned reply #{name}; the closest: {closest}."
    canned_unknown_any: str = "没有快捷回复 #{name}。可用的有 {names}。No canned reply #{name}; there are {names}."
    canned_unavailable: str = "快捷回复暂时无法读取，请稍后再试。Canned replies cannot be read just now; please try again shortly."
    canned_none: str = "还没有快捷回复：可在配置的 canned 中或用 PUT /api/canned/<名称> 添加。No canned replies yet: add them under canned in the configuration or with PUT /api/canned/<name>."
    monitor_refused: str = "只有主管可以监听会话。Only supervisors may watch conversations."
    monitor_started: str = "开始监听 {customer_id}（在此输入的内容只有客服能看到，/takeover 接管）。Watching {customer_id}: what you write here reaches the servicer only; /takeover takes the customer over."
    monitor_stopped: str = "已停止监听 {customer_id}。Stopped watching {customer_id}."
    monitor_list: str = "进行中的会话 / live conversations: {customers}"
    monitor_no_session: str = "{customer_id} 没有进行中的会话。{customer_id} has no live conversation."
    whisper: str = "[主管 {supervisor} 悄悄话 / whisper] {text}"
    copy_customer: str = "[客户 / customer] {text}"
    copy_bot: str = "[机器人 / bot] {text}"
    copy_servicer: str = "[客服 / servicer {name}] {text}"
    too_fast: str = "您发送得太快了，请稍候再发。You are sending messages too fast; please wait a moment."


# What each text is given when it is said: a placeholder outside its set
# would raise KeyError the first time the text is used (once, inside the
# pool, it stopped the pool: issue 19), so a config that has one is refused.
TEXT_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "seat_assigned": frozenset({"servicer_name"}),
    "already_human": frozenset({"servicer_name"}),
    "servicer_seat": frozenset({"customer_name", "customer_id"}),
    "servicer_history": frozenset({"history"}),
    "duty_on": frozenset({"load", "capacity"}),
    "duty_off": frozenset({"load", "capacity"}),
    "duty_paused": frozenset({"load", "capacity"}),
    "auto_paused": frozenset({"minutes"}),
    "missed_paused": frozenset({"missed"}),
    "servicer_reassigned_away": frozenset({"servicer_name"}),
    "queued": frozenset({"position", "ahead", "wait_zh", "wait_en"}),
    "offline": frozenset({"hours", "next_open_zh", "next_open_en"}),
    "transferred": frozenset({"servicer_name"}),
    "servicer_transferred_away": frozenset({"servicer_name"}),
    "servicer_transferred_in": frozenset({"previous_name", "customer_name", "customer_id"}),
    "transfer_failed": frozenset({"reason"}),
    "suggest": frozenset({"options"}),
    "canned_list": frozenset({"names"}),
    "monitor_started": frozenset({"customer_id"}),
    "monitor_stopped": frozenset({"customer_id"}),
    "monitor_list": frozenset({"customers"}),
    "monitor_no_session": frozenset({"customer_id"}),
    "whisper": frozenset({"supervisor", "text"}),
    "copy_customer": frozenset({"text"}),
    "copy_bot": frozenset({"text"}),
    "copy_servicer": frozenset({"name", "text"}),
    "canned_unknown": frozenset({"name", "closest"}),
    "canned_unknown_any": frozenset({"name", "names"}),
    "welcome_suggestions": frozenset({"options"}),
}
