"""Plans are made and edited here (or with `manage.py create_plan`); the rest is read-only history."""

from django.contrib import admin

from .models import Customer, LedgerEntry, Plan, StripeEvent, Subscription, Tip


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "stripe_price_id", "amount", "currency", "interval", "active", "early_access")
    list_filter = ("active", "interval")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("user", "stripe_customer_id", "created_at")
    search_fields = ("stripe_customer_id", "user__username")
    raw_id_fields = ("user",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("stripe_subscription_id", "user", "plan", "status", "current_period_end")
    list_filter = ("status",)
    search_fields = ("stripe_subscription_id", "stripe_customer_id", "user__username")
    raw_id_fields = ("user",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History (webhook events, ledger rows, moderation's audit log): the admin shows it and changes
    nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "type", "created", "processed_at")
    list_filter = ("type",)
    search_fields = ("stripe_id",)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "user", "creator_id", "amount", "currency", "stripe_object_id")
    list_filter = ("kind", "currency")
    search_fields = ("stripe_object_id", "payment_intent_id", "stripe_customer_id")


@admin.register(Tip)
class TipAdmin(ReadOnlyAdmin):
    """Tips are history too, but an abusive message can be removed: deleting a tip takes it off the
    creator's page and leaves the money in the ledger."""

    list_display = ("created_at", "payer", "creator", "amount", "currency", "stripe_session_id")
    list_filter = ("currency",)
    search_fields = ("stripe_session_id", "payment_intent_id", "creator__username", "payer__username")

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)
