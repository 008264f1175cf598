"""Custom actions of Coffeebot: validate the order form and place the order."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

MENU = ("espresso", "cappuccino", "latte", "flat white", "tea", "hot chocolate")
SIZES = ("small", "medium", "large")


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    def validate_drink(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        drink = str(slot_value or "").strip().lower()
        if drink in MENU:
            return {"drink": drink}
        dispatcher.utter_message(text=f"Sorry, we don't serve {slot_value}.")
        return {"drink": None}

    def validate_size(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        size = str(slot_value or "").strip().lower()
        if size in SIZES:
            return {"size": size}
        dispatcher.utter_message(text="Please choose small, medium or large.")
        return {"size": None}


class ActionPlaceOrder(Action):
    def name(self) -> str:
        return "action_place_order"

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        size = tracker.get_slot("size")
        drink = tracker.get_slot("drink")
        # A real shop would call its ordering system here.
        order_number = abs(hash((tracker.sender_id, size, drink))) % 1000
        dispatcher.utter_message(
            text=f"Your {size} {drink} is on its way! Order number {order_number}."
        )
        return []
