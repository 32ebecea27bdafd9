"""UI text in Simplified Chinese and English, from one catalog.

Keys are stable identifiers; a missing key shows itself (``[key]``) rather than
crashing, and a test checks both languages define every key.
"""

from __future__ import annotations

CATALOG: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app.title": ("agentdesk 客服工作台", "agentdesk"),
    "conn.demo": ("离线演示", "offline demo"),
    "conn.offline": ("离线", "offline"),
    "conn.online": ("在线", "online"),
    "conn.syncing": ("同步中", "syncing"),
    "conn.last_sync": ("上次同步 {t}", "last sync {t}"),
    "conn.never": ("尚未同步", "never synced"),
    "conn.pending": ("{n} 条待发送", "{n} to send"),
    "thread.pending": ("发送中…", "sending…"),
    "thread.failed": ("发送失败：{e}（Alt+R 重试）", "not sent: {e} (Alt+R retries)"),
    "notify.conflict": ("该会话已由 {name} 接待，你的回复没有发出，已放回输入框", "{name} has taken this conversation; your reply was not sent and is back in the composer"),
    "notify.retrying": ("正在重新发送 {n} 条消息", "Sending {n} message(s) again"),
    "notify.nothing_to_retry": ("这个会话没有发送失败的消息", "Nothing failed in this conversation"),
    "act.retry": ("重发", "Retry"),
    "act.retry.help": ("重新发送本会话中发送失败的消息（不会重复发送）", "Send this conversation's failed messages again"),
    "header.agent": ("客服", "agent"),
    "tab.mine": ("我的", "Mine"),
    "tab.unassigned": ("未分配", "Unassigned"),
    "tab.all": ("全部", "All"),
    "status.open": ("待处理", "open"),
    "status.pending": ("挂起", "pending"),
    "status.snoozed": ("稍后", "snoozed"),
    "status.resolved": ("已解决", "resolved"),
    "status.any": ("全部状态", "any status"),
    "inbox.filter": ("状态", "status"),
    "inbox.empty": ("这里没有会话", "No conversations here"),
    "inbox.position": ("{n} 个会话", "{n} conversations"),
    "inbox.waiting": ("等待 {t}", "waiting {t}"),
    "inbox.unassigned": ("未分配", "unassigned"),
    "thread.empty": ("在左侧选择一个会话，按 Enter 打开", "Pick a conversation on the left and press Enter"),
    "thread.older": ("↑ 更早的消息", "↑ older messages"),
    "thread.start": ("— 会话开始 —", "— start of conversation —"),
    "thread.note": ("内部备注", "internal note"),
    "thread.bot": ("智能助手", "shop bot"),
    "thread.system": ("系统", "system"),
    "thread.you": ("我", "me"),
    "thread.waiting": ("客户已等待 {t}", "customer waiting {t}"),
    "composer.placeholder": ("输入回复，Enter 发送，Alt+Enter 换行", "Type a reply · Enter sends · Alt+Enter new line"),
    "composer.closed": ("先打开一个会话", "Open a conversation first"),
    "sidebar.title": ("客户信息", "Customer"),
    "sidebar.empty": ("未选择客户", "No customer selected"),
    "sidebar.vip": ("会员等级", "VIP level"),
    "sidebar.location": ("所在地", "Location"),
    "sidebar.first_seen": ("首次访问", "First seen"),
    "sidebar.tags": ("标签", "Tags"),
    "sidebar.orders": ("订单", "Orders"),
    "sidebar.orders_more": ("另有 {n} 个更早的订单", "{n} older orders not shown"),
    "sidebar.no_orders": ("暂无订单", "No orders"),
    "sidebar.conversations": ("历史会话", "Previous conversations"),
    "sidebar.no_conversations": ("没有其他会话", "No other conversations"),
    "sidebar.notes": ("客户备注（团队共享）", "Customer notes (shared)"),
    "sidebar.no_notes": ("暂无备注", "No notes"),
    "sidebar.tracking": ("物流", "Tracking"),
    "sidebar.messages": ("{n}条", "{n} msgs"),
    "vip.none": ("普通", "regular"),
    "group.售前": ("售前", "pre-sale"),
    "group.售后": ("售后", "after-sale"),
    "group.客诉": ("客诉", "complaint"),
    "help.title": ("快捷键", "Keys"),
    "help.close": ("Esc 关闭", "Esc to close"),
    "help.scope.app": ("全局（输入时也可用）", "Anywhere (also while typing)"),
    "help.scope.inbox": ("会话列表", "Inbox"),
    "help.scope.composer": ("输入框", "Composer"),
    "notify.sent": ("已发送", "Sent"),
    "notify.empty": ("不能发送空消息", "Nothing to send"),
    "notify.nobody_waiting": ("当前没有等待中的客户", "Nobody is waiting"),
    "notify.error": ("出错了：{e}", "Something went wrong: {e}"),
    "ago.now": ("刚刚", "now"),
    # actions: label (footer), help (overlay / palette)
    "act.next": ("下一个", "Next"),
    "act.next.help": ("打开下一个会话（输入时也可用）", "Open the next conversation (works while typing)"),
    "act.prev": ("上一个", "Prev"),
    "act.prev.help": ("打开上一个会话（输入时也可用）", "Open the previous conversation (works while typing)"),
    "act.longest": ("最久等待", "Longest wait"),
    "act.longest.help": ("跳到等待最久的客户", "Jump to the customer who has waited longest"),
    "act.inbox": ("列表", "Inbox"),
    "act.inbox.help": ("焦点回到会话列表", "Focus the inbox"),
    "act.help": ("帮助", "Help"),
    "act.help.help": ("显示所有快捷键", "Show every key"),
    "act.palette": ("命令", "Commands"),
    "act.palette.help": ("命令面板：搜索并执行任何操作", "Command palette: search and run any action"),
    "act.quit": ("退出", "Quit"),
    "act.quit.help": ("退出 agentdesk", "Quit agentdesk"),
    "act.down": ("下移", "Down"),
    "act.down.help": ("列表中下移", "Move down the list"),
    "act.up": ("上移", "Up"),
    "act.up.help": ("列表中上移", "Move up the list"),
    "act.open": ("打开", "Open"),
    "act.open.help": ("打开会话并进入输入框", "Open the conversation and start typing"),
    "act.tab_mine": ("我的", "Mine"),
    "act.tab_mine.help": ("显示分配给我的会话", "Show conversations assigned to me"),
    "act.tab_unassigned": ("未分配", "Unassigned"),
    "act.tab_unassigned.help": ("显示还没人接待的会话", "Show conversations nobody has taken"),
    "act.tab_all": ("全部", "All"),
    "act.tab_all.help": ("显示所有会话", "Show every conversation"),
    "act.status": ("状态筛选", "Status"),
    "act.status.help": ("切换状态筛选：待处理/挂起/稍后/已解决/全部", "Cycle the status filter: open/pending/snoozed/resolved/any"),
    "act.page_down": ("下一页", "Page down"),
    "act.page_down.help": ("列表翻到下一页", "Next page of the list"),
    "act.page_up": ("上一页", "Page up"),
    "act.page_up.help": ("列表翻到上一页", "Previous page of the list"),
    "act.send": ("发送", "Send"),
    "act.send.help": ("发送回复", "Send the reply"),
    "act.newline": ("换行", "New line"),
    "act.newline.help": ("在回复中换行（Alt+Enter 或 Ctrl+J）", "New line in the reply (Alt+Enter or Ctrl+J)"),
    "act.focus_next": ("下一栏", "Next pane"),
    "act.focus_next.help": ("在列表、会话、客户信息之间切换", "Move between inbox, thread and sidebar"),
}


class Catalog:
    """``t = Catalog("zh"); t("tab.mine")`` → "我的"."""

    def __init__(self, language: str = "zh") -> None:
        self.language = language
        self._index = 0 if language == "zh" else 1

    def __call__(self, key: str, **values: object) -> str:
        entry = CATALOG.get(key)
        if entry is None:
            return f"[{key}]"
        text = entry[self._index]
        return text.format(**values) if values else text
