"""The hotline console's callbacks: each reads the signed-in user and the controls it needs, asks the engine
through the hotline modules, and returns what they render."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.pages.components import register_chrome, viewer
from dashboard.pages.hotline_callers import history_hint, history_view, look_up, lookup_due, short_number
from dashboard.pages.hotline_duplicates import duplicates_view, merge_note, suggestions
from dashboard.pages.hotline_form import FIELDS, CallForm, allowed, normalise_phone
from dashboard.pages.hotline_phrases import phrase_buttons, phrases_for, with_phrase
from dashboard.pages.hotline_save import RESET_CONTROLS, outputs, submit
from dashboard.pages.i18n import lang_of
from dashboard.pages.intake_widgets import (
    click_latlng,
    clicked_point,
    display_crs,
    forbidden,
    grid_path_view,
    pin,
    register_category_search,
    stored_point,
)
from dashboard.runtime import current_runtime

KEEP = (no_update, no_update, no_update)


def _pressed() -> bool:
    """Whether the trigger of a pattern-matching callback was a real click (not a re-render)."""
    return isinstance(ctx.triggered_id, dict) and bool(ctx.triggered) and bool(ctx.triggered[0]["value"])


def _category(value) -> str | None:
    return value if isinstance(value, str) else None


def register(app: dash.Dash) -> None:
    """Every callback of the console."""
    register_chrome(app, "hl")

    @app.callback(
        Output("hl-history", "children"),
        Output("hl-caller-name", "value"),
        Output("hl-cb-name", "value"),
        Output("hl-cb-phone", "value"),
        Input("hl-phone", "n_submit"),
        Input("hl-phone", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def lookup(_submit, phone, lang):
        """Enter, or the 11th digit, shows the caller's earlier calls and prefills the callback fields."""
        lang = lang_of(lang)
        principal = viewer()
        number = normalise_phone(phone)
        typed = "hl-phone.value" in ctx.triggered_prop_ids and "hl-phone.n_submit" not in ctx.triggered_prop_ids
        found = look_up(principal, number) if lookup_due(number, typed) else None
        if not allowed(principal) or (found is not None and not found.allowed):
            return forbidden(lang, "hotline", "hl"), *KEEP
        if not number:
            return history_hint(lang), *KEEP
        if found is None:
            return (no_update if typed else short_number(lang)), *KEEP
        name = found.name or no_update
        return history_view(found.calls, number, lang), name, name, number

    register_category_search(app, "hl", allowed)

    @app.callback(
        Output("hl-loc", "data"),
        Output("hl-pin", "children"),
        Output("hl-grid", "children"),
        Input("hl-map", "clickData"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def clicked(click, lang):
        """A click on the map sets the location; the grid path and leader show at once."""
        point = clicked_point(click, display_crs()) if allowed(viewer()) else None
        if point is None:
            return KEEP
        lat, lng = click_latlng(click)
        marker = pin(lat, lng, marker_id="hl-pin-marker")
        return {"lon": point[0], "lat": point[1]}, marker, grid_path_view(point[0], point[1], lang_of(lang))

    @app.callback(Output("hl-phrases", "children"), Input("hl-category", "value"), prevent_initial_call=True)
    def phrases(category):
        """The phrases of the chosen category."""
        return phrase_buttons(phrases_for(_category(category)))

    @app.callback(
        Output("hl-desc", "value", allow_duplicate=True),
        Input({"type": "hl-phrase", "index": ALL}, "n_clicks"),
        State("hl-category", "value"),
        State("hl-desc", "value"),
        prevent_initial_call=True,
    )
    def insert(_clicks, category, text):
        """A phrase button (or Alt+n) appends the phrase to the description."""
        if not _pressed():
            return no_update
        added = with_phrase(text, phrases_for(_category(category)), ctx.triggered_id.get("index"))
        return no_update if added is None else added

    @app.callback(
        Output("hl-dups", "children"),
        Input("hl-category", "value"),
        Input("hl-loc", "data"),
        Input("hl-parent", "data"),
        State("hl-phone", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def duplicates(category, loc, parent, phone, lang):
        """Possible duplicates of the chosen category at the chosen place, before saving."""
        principal = viewer()
        point = stored_point(loc)
        if not allowed(principal) or _category(category) is None or point is None:
            return []
        with current_runtime().sessions() as session:
            found = suggestions(session, principal, category, point, phone)
            return duplicates_view(found, principal, lang_of(lang), parent if isinstance(parent, str) else None)

    @app.callback(
        Output("hl-parent", "data"),
        Output("hl-merge-note", "children"),
        Input({"type": "hl-merge", "index": ALL}, "n_clicks"),
        State("hl-parent", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def pick(_clicks, current, lang):
        """'Merge into this' marks the case this call will be saved under (pressed again: a new case)."""
        if not _pressed():
            return no_update, no_update
        chosen = ctx.triggered_id.get("index")
        chosen = chosen if isinstance(chosen, str) and chosen != current else None
        return chosen, merge_note(chosen, lang_of(lang))

    @app.callback(
        output=[
            Output("hl-result", "children"),
            Output("hl-saved", "data"),
            *(Output(i, prop, allow_duplicate=True) for i, prop in RESET_CONTROLS),
        ],
        inputs={"pressed": Input("hl-save", "n_clicks"), "cleared": Input("hl-clear", "n_clicks")},
        state={
            "form": {name: State(i, prop) for name, (i, prop) in FIELDS.items()},
            "saved": State("hl-saved", "data"),
            "lang": State("gc-lang", "data"),
        },
        prevent_initial_call=True,
    )
    def save(pressed, cleared, form, saved, lang):
        """Ctrl+Enter / the button: create the incident, clear the form for the next call, show the case id."""
        outcome = submit(viewer(), CallForm(**form), pressed=bool(pressed), cleared=ctx.triggered_id == "hl-clear")
        return outputs(outcome, saved, lang_of(lang))
