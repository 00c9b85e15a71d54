/*
 * routes.c: the route table. One line per endpoint: method, pattern,
 * handler, the permission the middleware checks, whether it takes a JSON
 * body, whether it honours Idempotency-Key. Object-level rules (which
 * client, which user) are the handlers' and the store's.
 */
#include "base/common.h"
#include "base/util.h"
#include "http/http.h"

const struct route routes[] = {
	/* service */
	{ "GET", "/healthz", h_healthz, P_PUBLIC, false, false, false },
	{ "GET", "/readyz", h_readyz, P_PUBLIC, false, false, false },
	{ "GET", "/metrics", h_metrics, P_PUBLIC, false, false, false },
	{ "GET", "/api/v1/openapi.json", h_openapi, P_PUBLIC, false, false, false },
	/* authentication */
	{ "POST", "/api/v1/auth/login", h_login, P_PUBLIC, true, false, false },
	{ "POST", "/api/v1/auth/logout", h_logout, P_ENROL, false, false, false },
	{ "GET", "/api/v1/me", h_me, P_ENROL, false, false, false },
	{ "POST", "/api/v1/me/totp", h_totp_enrol, P_ENROL, false, false, false },
	{ "POST", "/api/v1/me/totp/confirm", h_totp_confirm, P_ENROL, true, false, false },
	{ "POST", "/api/v1/tokens", h_token_create, P_USER, true, false, false },
	/* settings */
	{ "GET", "/api/v1/settings", h_settings_get, P_ADMIN, false, false, false },
	{ "PATCH", "/api/v1/settings", h_settings_patch, P_ADMIN, true, false, false },
	/* organisations and people */
	{ "POST", "/api/v1/clients", h_client_create, P_DISPATCH, true, true, false },
	{ "GET", "/api/v1/clients", h_client_list, P_USER, false, false, false },
	{ "GET", "/api/v1/clients/{id}", h_client_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/clients/{id}", h_client_patch, P_DISPATCH, true, false, false },
	{ "POST", "/api/v1/clients/{id}/contacts", h_contact_create, P_USER, true, true, false },
	{ "GET", "/api/v1/clients/{id}/contacts", h_contact_list, P_USER, false, false, false },
	{ "GET", "/api/v1/contacts", h_contact_search, P_USER, false, false, false },
	{ "GET", "/api/v1/contacts/{id}", h_contact_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/contacts/{id}", h_contact_patch, P_USER, true, false, false },
	{ "POST", "/api/v1/users", h_user_create, P_USER, true, true, false },
	{ "GET", "/api/v1/users", h_user_list, P_USER, false, false, false },
	{ "GET", "/api/v1/users/{id}", h_user_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/users/{id}", h_user_patch, P_USER, true, false, false },
	/* tickets */
	{ "POST", "/api/v1/tickets", h_ticket_create, P_USER, true, true, false },
	{ "GET", "/api/v1/tickets", h_ticket_list, P_USER, false, false, false },
	{ "GET", "/api/v1/queues", h_queue_counts, P_STAFF, false, false, false },
	{ "PATCH", "/api/v1/tickets", h_ticket_bulk, P_STAFF, true, false, false },
	{ "GET", "/api/v1/tickets/{id}", h_ticket_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/tickets/{id}", h_ticket_patch, P_USER, true, false, false },
	{ "POST", "/api/v1/tickets/{id}/messages", h_message_create, P_USER, true, false, false },
	{ "GET", "/api/v1/tickets/{id}/messages", h_message_list, P_USER, false, false, false },
	{ "POST", "/api/v1/tickets/{id}/escalate", h_ticket_escalate, P_STAFF, true, false, false },
	{ "POST", "/api/v1/tickets/{id}/time-entries", h_time_create, P_STAFF, true, false, false },
	{ "GET", "/api/v1/tickets/{id}/time-entries", h_time_list, P_STAFF, false, false, false },
	{ "GET", "/api/v1/tickets/{id}/timeline", h_timeline, P_USER, false, false, false },
	{ "GET", "/api/v1/csat/{id}", h_csat_get, P_PUBLIC, false, false, false },
	{ "POST", "/api/v1/csat/{id}", h_csat_post, P_PUBLIC, true, false, false },
	/* rules */
	{ "POST", "/api/v1/triage-rules", h_rule_create, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/triage-rules", h_rule_list, P_STAFF, false, false, false },
	{ "POST", "/api/v1/triage-rules/dry-run", h_rule_dry_run, P_STAFF, true, false, false },
	{ "GET", "/api/v1/triage-rules/{id}", h_rule_get, P_STAFF, false, false, false },
	{ "PATCH", "/api/v1/triage-rules/{id}", h_rule_patch, P_DISPATCH, true, false, false },
	{ "DELETE", "/api/v1/triage-rules/{id}", h_rule_delete, P_DISPATCH, false, false, false },
	{ "POST", "/api/v1/escalation-rules", h_esc_rule_create, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/escalation-rules", h_esc_rule_list, P_STAFF, false, false, false },
	{ "PATCH", "/api/v1/escalation-rules/{id}", h_esc_rule_patch, P_DISPATCH, true, false, false },
	{ "DELETE", "/api/v1/escalation-rules/{id}", h_esc_rule_delete, P_DISPATCH, false, false, false },
	/* business-hours calendars */
	{ "POST", "/api/v1/calendars", h_calendar_create, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/calendars", h_calendar_list, P_STAFF, false, false, false },
	{ "GET", "/api/v1/calendars/{id}", h_calendar_get, P_STAFF, false, false, false },
	{ "GET", "/api/v1/calendars/{id}/business-time", h_calendar_business_time, P_STAFF, false, false, false },
	{ "GET", "/api/v1/calendars/{id}/add", h_calendar_add, P_STAFF, false, false, false },
	{ "PATCH", "/api/v1/calendars/{id}", h_calendar_patch, P_DISPATCH, true, false, false },
	{ "POST", "/api/v1/calendars/{id}/holidays/import", h_calendar_import, P_DISPATCH, false, false, false },
	/* SLA policies and contracts */
	{ "POST", "/api/v1/sla-policies", h_policy_create, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/sla-policies", h_policy_list, P_STAFF, false, false, false },
	{ "GET", "/api/v1/sla-policies/{id}", h_policy_get, P_STAFF, false, false, false },
	{ "PATCH", "/api/v1/sla-policies/{id}", h_policy_patch, P_DISPATCH, true, false, false },
	{ "POST", "/api/v1/sla-policies/{id}/simulate", h_policy_simulate, P_STAFF, true, false, false },
	/* monitoring (api_monitor.c, api_alertmanager.c) */
	{ "POST", "/api/v1/clients/{id}/enroll-tokens", h_enroll_token_create, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/clients/{id}/enroll-tokens", h_enroll_token_list, P_DISPATCH, false, false, false },
	{ "DELETE", "/api/v1/clients/{id}/enroll-tokens/{token_id}", h_enroll_token_revoke, P_DISPATCH, false, false, false },
	{ "POST", "/api/v1/clients/{id}/alertmanager-receivers", h_amr_create_client, P_ADMIN, true, false, false },
	{ "POST", "/api/v1/alertmanager-receivers", h_amr_create, P_ADMIN, true, false, false },
	{ "GET", "/api/v1/alertmanager-receivers", h_amr_list, P_ADMIN, false, false, false },
	{ "DELETE", "/api/v1/alertmanager-receivers/{id}", h_amr_delete, P_ADMIN, false, false, false },
	{ "POST", "/api/v1/agent/enroll", h_agent_enroll, P_PUBLIC, true, false, false },
	{ "POST", "/api/v1/agent/checkin", h_agent_checkin, P_PUBLIC, true, false, false },
	{ "POST", "/api/v1/integrations/alertmanager", h_alertmanager, P_PUBLIC, true, false, false },
	{ "GET", "/api/v1/devices", h_device_list, P_USER, false, false, false },
	{ "GET", "/api/v1/devices/{id}", h_device_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/devices/{id}", h_device_patch, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/devices/{id}/series", h_device_series, P_USER, false, false, false },
	{ "GET", "/api/v1/devices/{id}/chart.svg", h_device_chart, P_USER, false, false, false },
	{ "POST", "/api/v1/checks", h_check_create, P_STAFF, true, false, false },
	{ "GET", "/api/v1/checks", h_check_list, P_USER, false, false, false },
	{ "GET", "/api/v1/checks/{id}", h_check_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/checks/{id}", h_check_patch, P_STAFF, true, false, false },
	{ "DELETE", "/api/v1/checks/{id}", h_check_delete, P_STAFF, false, false, false },
	{ "GET", "/api/v1/alerts", h_alert_list, P_USER, false, false, false },
	{ "GET", "/api/v1/alerts/{id}", h_alert_get, P_USER, false, false, false },
	{ "POST", "/api/v1/alerts/{id}/ack", h_alert_ack, P_STAFF, false, false, false },
	{ "POST", "/api/v1/maintenance-windows", h_mwindow_create, P_STAFF, true, false, false },
	{ "GET", "/api/v1/maintenance-windows", h_mwindow_list, P_USER, false, false, false },
	{ "GET", "/api/v1/maintenance-windows/{id}", h_mwindow_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/maintenance-windows/{id}", h_mwindow_patch, P_STAFF, true, false, false },
	{ "DELETE", "/api/v1/maintenance-windows/{id}", h_mwindow_delete, P_STAFF, false, false, false },
	{ "POST", "/api/v1/contracts", h_contract_create, P_ADMIN, true, false, false },
	{ "GET", "/api/v1/contracts", h_contract_list, P_USER, false, false, false },
	{ "GET", "/api/v1/contracts/{id}", h_contract_get, P_USER, false, false, false },
	{ "PATCH", "/api/v1/contracts/{id}", h_contract_patch, P_ADMIN, true, false, false },
	/* mail intake and the outbox (api_mail.c, api_notify.c; docs/MAIL.md) */
	{ "POST", "/api/v1/mail/inbound", h_mail_inbound, P_DISPATCH, false, false, false },
	{ "GET", "/api/v1/mail/inbound", h_mail_inbound_list, P_DISPATCH, false, false, false },
	{ "GET", "/api/v1/mail/inbound/{id}", h_mail_inbound_get, P_DISPATCH, false, false, false },
	{ "POST", "/api/v1/mail/inbound/{id}/file", h_mail_inbound_file, P_DISPATCH, true, false, false },
	{ "GET", "/api/v1/mail/settings", h_mail_settings_get, P_ADMIN, false, false, false },
	{ "PATCH", "/api/v1/mail/settings", h_mail_settings_patch, P_ADMIN, true, false, false },
	{ "GET", "/api/v1/mail/routes", h_mail_route_list, P_ADMIN, false, false, false },
	{ "POST", "/api/v1/mail/routes", h_mail_route_create, P_ADMIN, true, false, false },
	{ "DELETE", "/api/v1/mail/routes/{id}", h_mail_route_delete, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/mail/templates", h_template_list, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/mail/templates/{id}", h_template_get, P_ADMIN, false, false, false },
	{ "PUT", "/api/v1/mail/templates/{id}", h_template_put, P_ADMIN, true, false, false },
	{ "DELETE", "/api/v1/mail/templates/{id}", h_template_delete, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/tickets/{id}/attachments", h_attachment_list, P_USER, false, false, false },
	{ "GET", "/api/v1/attachments/{id}", h_attachment_get, P_USER, false, false, false },
	{ "GET", "/api/v1/tickets/{id}/deliveries", h_ticket_deliveries, P_STAFF, false, false, false },
	{ "POST", "/api/v1/webhooks", h_webhook_create, P_ADMIN, true, false, false },
	{ "GET", "/api/v1/webhooks", h_webhook_list, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/webhooks/{id}", h_webhook_get, P_ADMIN, false, false, false },
	{ "PATCH", "/api/v1/webhooks/{id}", h_webhook_patch, P_ADMIN, true, false, false },
	{ "DELETE", "/api/v1/webhooks/{id}", h_webhook_delete, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/webhooks/{id}/deliveries", h_webhook_deliveries, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/deliveries", h_delivery_list, P_ADMIN, false, false, false },
	{ "GET", "/api/v1/deliveries/{id}", h_delivery_get, P_ADMIN, false, false, false },
	{ "POST", "/api/v1/deliveries/{id}/retry", h_delivery_retry, P_ADMIN, false, false, false },
	/* reports (api_reports.c; docs/REPORTS.md) */
	{ "GET", "/api/v1/reports/sla-review", h_report_sla_review, P_USER, false, false, false },
	{ "GET", "/api/v1/dashboard", h_dashboard, P_USER, false, false, false },
	{ "GET", "/api/v1/reports/schedules", h_schedule_list, P_ADMIN, false, false, false },
	{ "POST", "/api/v1/reports/schedules", h_schedule_create, P_ADMIN, true, true, false },
	{ "GET", "/api/v1/reports/schedules/{id}", h_schedule_get, P_ADMIN, false, false, false },
	{ "PATCH", "/api/v1/reports/schedules/{id}", h_schedule_patch, P_ADMIN, true, false, false },
	{ "DELETE", "/api/v1/reports/schedules/{id}", h_schedule_delete, P_ADMIN, false, false, false },
	{ "POST", "/api/v1/reports/schedules/{id}/send", h_schedule_send, P_ADMIN, true, false, false },
	/* history import (api_import.c; docs/IMPORT.md): JSON lines or CSV, not JSON */
	{ "POST", "/api/v1/import/tickets", h_import_tickets, P_ADMIN, false, false, false },
	/* the test clock: only with itsup serve --test-clock */
	{ "POST", "/api/v1/test/clock", h_test_clock, P_ADMIN, true, false, true },
};

const size_t routes_count = ARRAY_SIZE(routes);

int route_match(const char *pattern, const char *path, int64_t *params, int max)
{
	int n = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *pend = strchr(pattern, '}');
			const char *send = path;
			char num[24];
			int64_t v;
			size_t len;
			if (!pend)
				return -1;
			while (*send && *send != '/')
				send++;
			len = (size_t)(send - path);
			if (len == 0 || len >= sizeof(num) || n >= max)
				return -1;
			memcpy(num, path, len);
			num[len] = '\0';
			if (num[0] < '1' || num[0] > '9' || !parse_i64(num, &v) || v <= 0)
				return -1;
			params[n++] = v;
			pattern = pend + 1;
			path = send;
			continue;
		}
		if (*pattern != *path)
			return -1;
		pattern++;
		path++;
	}
	return *pattern || *path ? -1 : n;
}
