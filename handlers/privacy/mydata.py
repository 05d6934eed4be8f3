"""/mydata: what the bot holds about me, a copy as JSON or XLSX, and asking to be erased.
Officers see pending erasure requests and confirm them (/datarequests)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import DataAction, DataCB, MenuAction, MenuCB
from handlers.common import CallbackHandler, register_actions
from handlers.guards import role_router
from handlers.privacy.views import mydata_keyboard, overview
from handlers.screen import Screen
from members.dto import Identity
from privacy.service import DataRightsService, ExportFormat
from storage.database import Database


async def show_mydata(screen: Screen, identity: Identity, data_rights: DataRightsService):
    assert identity.member is not None
    data = await data_rights.collect(identity.member)
    await screen.show(overview(data), reply_markup=mydata_keyboard())


async def on_mydata(
    _message: Message, identity: Identity, data_rights: DataRightsService, screen: Screen
) -> None:
    await show_mydata(screen, identity, data_rights)


async def on_menu(
    _callback: CallbackQuery, identity: Identity, data_rights: DataRightsService, screen: Screen
):
    if identity.member is not None:
        await show_mydata(screen, identity, data_rights)


async def on_download(
    _callback: CallbackQuery,
    callback_data: DataCB,
    identity: Identity,
    data_rights: DataRightsService,
    screen: Screen,
) -> None:
    fmt: ExportFormat = "json" if callback_data.action is DataAction.JSON else "xlsx"
    filename, content = await data_rights.export(identity, fmt)
    await screen.document(BufferedInputFile(content, filename))


async def on_erase(_callback: CallbackQuery, screen: Screen) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Yes, ask to delete"), callback_data=DataCB(action=DataAction.REQUEST))
    builder.button(text=_("No"), callback_data=DataCB(action=DataAction.CANCEL))
    await screen.show(
        _(
            "<b>Deleting your data</b>\n"
            "An officer confirms the request. Then your profile, your Telegram id and "
            "everything that links you to the bot are deleted. The union keeps, without "
            "your name: proposals already submitted (shown as from a former member), named "
            "letters already sent, and your survey answers inside the results. After that "
            "the bot no longer knows you and cannot write to you.\n\nAsk for deletion?"
        ),
        reply_markup=builder.as_markup(),
    )


async def on_request(
    _callback: CallbackQuery,
    identity: Identity,
    data_rights: DataRightsService,
    screen: Screen,
) -> None:
    created = await data_rights.request_erasure(identity)
    text = (
        _("Your request has been sent to the union officers. You can withdraw it with /mydata.")
        if created
        else _("Your request is already waiting for an officer.")
    )
    screen.notify(text, alert=True)


async def on_cancel(
    _callback: CallbackQuery, identity: Identity, data_rights: DataRightsService, screen: Screen
) -> None:
    cancelled = await data_rights.cancel_erasure(identity)
    screen.notify(
        _("Your deletion request was withdrawn.") if cancelled else _("Nothing was changed."),
        alert=True,
    )


async def show_pending(screen: Screen, identity: Identity, data_rights: DataRightsService):
    pending = await data_rights.pending_erasures(identity)
    if not pending:
        await screen.show(_("No deletion requests are waiting."))
        return
    builder = InlineKeyboardBuilder()
    for request in pending:
        member = request.member
        builder.button(
            text=f"🗑 {member.name} ({member.employee_id}) · {member.department}",
            callback_data=DataCB(action=DataAction.CONFIRM, member_id=member.id),
        )
    builder.adjust(1)
    await screen.show(_("Deletion requests:"), reply_markup=builder.as_markup())


async def on_pending_command(
    _message: Message,
    identity: Identity,
    data_rights: DataRightsService,
    screen: Screen,
) -> None:
    await show_pending(screen, identity, data_rights)


async def on_pending(
    _callback: CallbackQuery, identity: Identity, data_rights: DataRightsService, screen: Screen
):
    await show_pending(screen, identity, data_rights)


async def on_confirm(_callback: CallbackQuery, callback_data: DataCB, screen: Screen) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Erase now"),
        callback_data=DataCB(action=DataAction.ERASE_NOW, member_id=callback_data.member_id),
    )
    await screen.show(
        _("This cannot be undone. Erase this member's data now?"),
        reply_markup=builder.as_markup(),
    )


async def on_erase_now(
    _callback: CallbackQuery,
    callback_data: DataCB,
    identity: Identity,
    data_rights: DataRightsService,
    database: Database,
    screen: Screen,
) -> None:
    await data_rights.confirm_erasure(identity, callback_data.member_id)
    await database.checkpoint()  # the erased rows must not linger in SQLite's WAL file
    screen.notify(_("Erased."), alert=True)


def create_router() -> Router:
    router = Router(name="mydata")
    officers = role_router("mydata_officers")
    router.message.register(on_mydata, Command("mydata"))
    router.callback_query.register(on_menu, MenuCB.filter(F.action == MenuAction.MINE))
    officers.message.register(on_pending_command, Command("datarequests"))
    member_actions: dict[DataAction, CallbackHandler] = {
        DataAction.JSON: on_download,
        DataAction.XLSX: on_download,
        DataAction.ERASE: on_erase,
        DataAction.REQUEST: on_request,
        DataAction.CANCEL: on_cancel,
    }
    register_actions(router, DataCB, member_actions)
    officer_actions: dict[DataAction, CallbackHandler] = {
        DataAction.PENDING: on_pending,
        DataAction.CONFIRM: on_confirm,
        DataAction.ERASE_NOW: on_erase_now,
    }
    register_actions(officers, DataCB, officer_actions)
    router.include_router(officers)
    return router
