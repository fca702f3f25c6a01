"""``/instellingen``: switch the single-key shortcuts off or on for this browser (WCAG 2.1.4); ``/beheer``: the accounts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.web.accounts import ROLE_NAMES, disable_user, list_users
from klachtwacht.web.guard import KEYS_COOKIE, Ctx, error_page, page, render

__all__ = ["routes"]


@page
async def settings_form(request: Request, ctx: Ctx) -> Response:
    return render(request, "settings.html", {"title": "Instellingen", "saved": request.query_params.get("opgeslagen")}, ctx=ctx)


@page
async def settings_save(request: Request, ctx: Ctx) -> Response:
    choice = "aan" if ctx.field("sneltoetsen") == "aan" else "uit"
    response = RedirectResponse("/instellingen?opgeslagen=1", status_code=303)
    response.set_cookie(KEYS_COOKIE, choice, max_age=5 * 365 * 86400, httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@page
async def accounts(request: Request, ctx: Ctx) -> Response:
    if ctx.account.role != "beheerder":
        ctx.audit("denied", "denied", object="/beheer")
        return error_page(request, 404, "Niet gevonden", "Deze pagina is er alleen voor de beheerder.", ctx=ctx)
    return render(request, "accounts.html", {"title": "Accounts", "users": list_users(ctx.web.sessions), "role_names": ROLE_NAMES,
                                            "disabled": request.query_params.get("uitgeschakeld")}, ctx=ctx)


@page
async def disable(request: Request, ctx: Ctx) -> Response:
    if ctx.account.role != "beheerder":
        ctx.audit("denied", "denied", object="/beheer")
        return error_page(request, 404, "Niet gevonden", "Deze pagina is er alleen voor de beheerder.", ctx=ctx)
    name = ctx.field("naam")
    if name == ctx.account.name:
        return error_page(request, 400, "Niet mogelijk", "U kunt uw eigen account niet uitschakelen.", ctx=ctx)
    from klachtwacht.errors import UsageError

    try:
        disable_user(ctx.web.sessions, name)
    except UsageError:
        return error_page(request, 404, "Niet gevonden", "Dit account bestaat niet.", ctx=ctx)
    ctx.audit("disable-user", "ok", object=f"user {name}"[:200])
    return RedirectResponse("/beheer?uitgeschakeld=1", status_code=303)


routes = [
    Route("/instellingen", settings_form, methods=["GET"]),
    Route("/instellingen", settings_save, methods=["POST"]),
    Route("/beheer", accounts, methods=["GET"]),
    Route("/beheer/uitschakelen", disable, methods=["POST"]),
]

