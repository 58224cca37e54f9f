"""Sign-in for the web UI: a server-rendered form at /login, /logout, and the gate in front of the Dash routes.

- GET /login shows the form (Chinese by default, English with ?lang=en). POST /login calls
  dashboard.auth.login (password, plus TOTP for admin/auditor/leader), then redirects to `next` (a local
  path) or the role's landing page: /wall for leaders, /audit for auditors, /devices for the admin, / for everyone else. Any
  failure re-renders the form with one generic message (never which part was wrong), status 401; too many
  failures from one address for one username re-render it with a retry message, status 429.
- POST /logout (the header's sign-out button, a same-origin form under the CSRF rules of dashboard/hardening.py)
  ends the session on the server and returns to /login. There is no GET /logout: a link or an image elsewhere
  cannot sign anyone out, and a stale cookie cannot outlive sign-out.
- `gate()` runs before every request: Dash pages without a principal redirect (302) to /login?next=...,
  Dash's JSON endpoints answer 401 in the API's error shape. Assets and component bundles stay public.
- Demo mode only (settings.demo_mode): the form also lists the demo accounts of
  data/demo_city/accounts.yaml, one-click for those without a second factor, with the password and the
  current TOTP code for those with one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyotp
import yaml
from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template_string,
    request,
)

from dashboard.auth import LoginFailed, SignInThrottled, current_principal, login, logout
from dashboard.pages.i18n import lang_of, role_label, t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role

log = logging.getLogger(__name__)

login_bp = Blueprint("login", __name__)

LANDING = {  # where each role starts after sign-in; the command center for the others
    Role.LEADER: "/wall",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/devices",
    Role.HOTLINE: "/hotline",  # call-takers start on their console
    # the people after dispatch start on their boxes (工作台)
    **dict.fromkeys((Role.DEPT_HANDLER, Role.DEPT_HEAD, Role.ENFORCEMENT, Role.GRID_WORKER), "/work"),
}
# Dash's page routes (endpoint names are the rules) and its JSON endpoints.
DASH_PAGE_ENDPOINTS = frozenset({"/", "/<path:path>"})
DASH_DATA_PATHS = frozenset({"/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/_reload-hash"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
MAX_USERNAME, MAX_PASSWORD = 64, 256


def landing(principal: Principal) -> str:
    return LANDING.get(principal.role, "/")


def safe_next(value: str | None) -> str | None:
    """`value` if it is a path on this site (never another host, never the sign-in pages), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return None
    if any(ord(c) < 32 for c in value):
        return None
    return value


def gate():
    """Before every request: Dash pages and Dash callbacks need a signed-in user."""
    path = request.path
    if path.startswith(PUBLIC_PREFIXES):
        return None
    is_data = path in DASH_DATA_PATHS or (path.startswith("/_dash-") and not path.startswith(PUBLIC_PREFIXES))
    is_page = request.endpoint in DASH_PAGE_ENDPOINTS
    if not (is_data or is_page) or current_principal() is not None:
        return None
    if is_data:
        response = jsonify(error={"code": "unauthenticated", "message": "sign in first (/login)", "field": None})
        response.status_code = 401
        return response
    wanted = path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    return redirect(f"/login?next={quote(wanted, safe='')}", 302)


# --- demo accounts -------------------------------------------------------------------------------------


def demo_accounts() -> list[dict]:
    """The demo accounts shown on the sign-in page (only in demo mode; [] otherwise or when the file is missing)."""
    rt = current_runtime()
    if not getattr(rt.settings, "demo_mode", False):
        return []
    path = Path(rt.settings.data_dir) / "demo_city" / "accounts.yaml"
    try:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, yaml.YAMLError) as exc:
        log.warning("demo accounts unavailable (%s): %s", path, exc)
        return []
    now = rt.clock()
    accounts = []
    for row in rows:
        if not isinstance(row, dict) or not row.get("username") or not row.get("password"):
            continue
        secret = row.get("totp_secret")
        accounts.append(
            {
                "username": str(row["username"]),
                "password": str(row["password"]),
                "display_name": str(row.get("display_name") or row["username"]),
                "role": str(row.get("role") or ""),
                "code": pyotp.TOTP(secret).at(now) if secret else None,
            }
        )
    return accounts


# --- pages ---------------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="{{ 'en' if lang == 'en' else 'zh-CN' }}">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · 网格指挥 GridCommand</title>
<style>
  html, body { margin: 0; height: 100%; background: #0b1220; color: #dbe7f5;
    font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif; }
  .gc-login { max-width: 380px; margin: 8vh auto 0; padding: 28px 32px; background: #111a2e;
    border: 1px solid #1f2d48; border-radius: 6px; box-shadow: 0 10px 40px rgba(0,0,0,.45); }
  .gc-login h1 { margin: 0 0 4px; font-size: 22px; } .gc-login h1 span { color: #22d3ee; font-weight: 400; font-size: 15px; }
  .gc-login .sub { color: #8197b3; font-size: 13px; margin-bottom: 22px; }
  .gc-login label { display: block; font-size: 13px; color: #8197b3; margin: 12px 0 4px; }
  .gc-login input[type=text], .gc-login input[type=password] { width: 100%; box-sizing: border-box; padding: 8px 10px;
    background: #0b1220; color: #e2e8f0; border: 1px solid #2a3b5c; border-radius: 3px; font-size: 15px; }
  .gc-login input:focus { outline: none; border-color: #22d3ee; }
  .gc-login .hint { color: #94a3b8; font-size: 12px; margin-top: 3px; }
  .gc-login input::placeholder { color: #94a3b8; }
  @media (min-width: 2560px) { html { zoom: 2; } }  /* 4K: the same layout, twice the size */
  .gc-login button { margin-top: 20px; width: 100%; padding: 9px; background: #0e7490; color: #fff; border: 0;
    border-radius: 3px; font-size: 15px; cursor: pointer; } .gc-login button:hover { background: #155e75; }
  .gc-login .error { background: rgba(239,68,68,.12); border: 1px solid rgba(239,68,68,.5); color: #fca5a5;
    padding: 8px 10px; border-radius: 3px; font-size: 13px; margin-bottom: 8px; }
  .gc-login .lang { float: right; color: #22d3ee; font-size: 13px; text-decoration: none; }
  .gc-demo { max-width: 640px; margin: 22px auto 40px; padding: 16px 20px; background: #111a2e;
    border: 1px dashed #a16207; border-radius: 6px; }
  .gc-demo h2 { margin: 0 0 10px; font-size: 14px; color: #fbbf24; }
  .gc-demo table { width: 100%; border-collapse: collapse; font-size: 13px; }
  .gc-demo td { padding: 5px 6px; border-top: 1px solid #1f2d48; }
  .gc-demo code { color: #a5f3fc; } .gc-demo form { margin: 0; }
  .gc-demo button { padding: 3px 10px; background: #0e7490; color: #fff; border: 0; border-radius: 3px; cursor: pointer; }
</style>
</head>
<body>
<main class="gc-login">
  <a class="lang" href="/login?lang={{ other_lang }}{% if next %}&amp;next={{ next|urlencode }}{% endif %}">{{ other_label }}</a>
  <h1>网格指挥 <span>GridCommand</span></h1>
  <div class="sub">{{ title }}</div>
  {% if error %}<div class="error" role="alert" id="login-error">{{ error }}</div>{% endif %}
  <form method="post" action="/login" autocomplete="on" id="login-form">
    <input type="hidden" name="next" value="{{ next or '' }}">
    <input type="hidden" name="lang" value="{{ lang }}">
    <label for="username">{{ s.username }}</label>
    <input type="text" id="username" name="username" value="{{ username }}" maxlength="64" required
           autocomplete="username" autofocus>
    <label for="password">{{ s.password }}</label>
    <input type="password" id="password" name="password" maxlength="256" required autocomplete="current-password">
    <label for="totp">{{ s.totp }}</label>
    <input type="text" id="totp" name="totp" inputmode="numeric" pattern="[0-9 ]{6,8}" maxlength="8"
           autocomplete="one-time-code">
    <div class="hint">{{ s.totp_hint }}</div>
    <button type="submit" id="login-submit">{{ s.submit }}</button>
  </form>
</main>
{% if demo %}
<section class="gc-demo" id="demo-accounts">
  <h2>{{ s.demo }}</h2>
  <table>
  {% for a in demo %}
    <tr data-username="{{ a.username }}">
      <td>{{ a.display_name }}</td><td>{{ a.role_label }}</td><td><code>{{ a.username }}</code></td>
      {% if a.code %}
      <td><code>{{ a.password }}</code></td><td>{{ s.demo_code }} <code class="demo-code">{{ a.code }}</code></td>
      {% else %}
      <td colspan="2"><form method="post" action="/login">
        <input type="hidden" name="username" value="{{ a.username }}">
        <input type="hidden" name="password" value="{{ a.password }}">
        <input type="hidden" name="next" value="{{ next or '' }}">
        <input type="hidden" name="lang" value="{{ lang }}">
        <button type="submit" class="demo-sign-in">{{ s.demo_sign_in }}</button></form></td>
      {% endif %}
    </tr>
  {% endfor %}
  </table>
</section>
{% endif %}
</body>
</html>"""


def _render(
    lang: str,
    next_path: str | None,
    *,
    error: bool = False,
    username: str = "",
    status: int = 200,
    retry_after: int | None = None,
):
    strings = {
        k: t(f"login_{k}", lang)
        for k in ("username", "password", "totp", "totp_hint", "submit", "demo", "demo_sign_in", "demo_code")
    }
    demo = [{**a, "role_label": role_label(a["role"], lang)} for a in demo_accounts()]
    html = render_template_string(
        PAGE,
        lang=lang,
        title=t("login_title", lang),
        s=strings,
        next=next_path,
        username=username[:MAX_USERNAME],
        error=_error_text(lang, error, retry_after),
        demo=demo,
        other_lang="zh" if lang == "en" else "en",
        other_label="中文" if lang == "en" else "English",
    )
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return html, status, headers


def _error_text(lang: str, error: bool, retry_after: int | None) -> str | None:
    if retry_after:
        return t("login_throttled", lang, seconds=retry_after)
    return t("login_failed", lang) if error else None


@login_bp.get("/login")
def login_form():
    lang = lang_of(request.args.get("lang"))
    return _render(lang, safe_next(request.args.get("next")))


@login_bp.post("/login")
def login_submit():
    form = request.form
    lang = lang_of(form.get("lang") or request.args.get("lang"))
    next_path = safe_next(form.get("next") or request.args.get("next"))
    username = (form.get("username") or "").strip()
    password = form.get("password") or ""
    totp = (form.get("totp") or "").replace(" ", "") or None
    if (
        not username
        or not password
        or len(username) > MAX_USERNAME
        or len(password) > MAX_PASSWORD
        or (totp is not None and (len(totp) > 8 or not totp.isdigit()))
    ):
        return _render(lang, next_path, error=True, username=username, status=401)
    try:
        principal = login(username, password, totp, now=current_runtime().clock())
    except SignInThrottled as exc:
        log.info("sign-in throttled for %r from %s", username[:MAX_USERNAME], request.remote_addr)
        return _render(lang, next_path, error=True, username=username, status=429, retry_after=exc.retry_after)
    except LoginFailed:
        log.info("sign-in failed for %r from %s", username[:MAX_USERNAME], request.remote_addr)
        return _render(lang, next_path, error=True, username=username, status=401)
    log.info("signed in: %s (%s) from %s", principal.username, principal.role, request.remote_addr)
    return redirect(next_path or landing(principal) + ("?lang=en" if lang == "en" else ""), 303)


@login_bp.post("/logout")
def logout_view():
    """End this browser's session (POST only) and go back to the sign-in page."""
    lang = lang_of(request.values.get("lang"))
    logout(now=current_runtime().clock())
    return redirect("/login" + ("?lang=en" if lang == "en" else ""), 303)


def init_login(server) -> None:
    """Register /login and /logout and the gate in front of the Dash routes."""
    server.register_blueprint(login_bp)
    server.before_request(gate)
