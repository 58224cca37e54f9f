"""The hotline console's callbacks: each reads the signed-in user and the controls it needs, asks the engine
through the hotline modules, and returns what they render."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.pages.components import register_chrome, viewer
from dashboard.pages.hotline_address import candidate_list, candidates, placed
from dashboard.pages.hotline_callers import history_hint, history_view, look_up, lookup_due, short_number
from dashboard.pages.hotline_duplicates import call_text, case_label, duplicates_view, merge_note, suggestions
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

    @app.callback(
        Output("hl-addr-list", "children"),
        Input("hl-address", "value"),
        State("hl-addr-picked", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def address_typed(typed, picked, lang):
        """Candidates under the address field at every key the call-taker types (a match takes well under 5 ms)."""
        if not allowed(viewer()):
            return []
        if isinstance(typed, str) and typed == picked:
            return no_update  # the pick itself wrote the field
        if not isinstance(typed, str) or len(typed.strip()) < 2:
            return []
        return candidate_list(candidates(typed), lang_of(lang))

    @app.callback(
        Output("hl-loc", "data", allow_duplicate=True),
        Output("hl-pin", "children", allow_duplicate=True),
        Output("hl-grid", "children", allow_duplicate=True),
        Output("hl-map", "viewport"),
        Output("hl-address", "value", allow_duplicate=True),
        Output("hl-addr-list", "children", allow_duplicate=True),
        Output("hl-addr-picked", "data"),
        Input({"type": "hl-addr", "index": ALL}, "n_clicks"),
        State("hl-address", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def address_picked(_clicks, typed, lang):
        """Enter (or a click) on a candidate places the call there, as a map click would; the point is the
        server's own candidate for the typed text, never one the browser sends."""
        index = ctx.triggered_id.get("index") if _pressed() else None
        found = candidates(typed) if isinstance(index, int) and allowed(viewer()) else []
        if not isinstance(index, int) or not 0 <= index < len(found):
            return (no_update,) * 7
        loc, marker, grid, view, address, note = placed(found[index], typed, lang_of(lang))
        return loc, marker, grid, view, address, note, address

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
        Input("hl-desc", "n_blur"),
        Input("hl-phone", "n_blur"),
        State("hl-phone", "value"),
        State("hl-address", "value"),
        State("hl-desc", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def duplicates(category, loc, parent, _desc_left, _phone_left, phone, address, desc, lang):
        """Possible duplicates before saving: the same kind nearby, the same caller, and for a call with no
        location yet, cases that read alike (looked at again when the call-taker leaves the phone or text field)."""
        principal = viewer()
        point = stored_point(loc)
        text = call_text(address, desc)
        nearby = _category(category) is not None and point is not None
        if not allowed(principal) or not (nearby or normalise_phone(phone) or (point is None and text)):
            return []
        with current_runtime().sessions() as session:
            found = suggestions(session, principal, _category(category), point, phone, text=text)
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
        """'Merge into this' marks the case this call will be saved under (pressed again: a new case); the note
        names it by its case number."""
        if not _pressed():
            return no_update, no_update
        chosen = ctx.triggered_id.get("index")
        chosen = chosen if isinstance(chosen, str) and chosen != current else None
        return chosen, merge_note(case_label(viewer(), chosen), lang_of(lang))

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
