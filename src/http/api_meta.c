/*
 * api_meta.c: health, readiness, metrics, the OpenAPI document, and the
 * provider-wide settings (the MFA policy).
 */
#include "base/common.h"
#include "base/embed.h"
#include "base/jschema.h"
#include "http/http.h"

void h_healthz(struct req *r)
{
	req_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void h_readyz(struct req *r)
{
	const char *v = NULL;
	struct err e;
	enum result rc = store_setting_get(r->srv->store, SETTING_MFA_REQUIRED, r->a, &v, &e);

	if (rc != RC_OK && rc != RC_NOTFOUND) {
		req_problem(r, 503, "unavailable", "Not ready", "the store does not answer");
		return;
	}
	req_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

void h_metrics(struct req *r)
{
	struct buf b = BUF_INIT(8u << 20);

	metrics_render(r->srv, &b);
	req_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&b), b.len);
	buf_release(&b);
}

void h_openapi(struct req *r)
{
	for (const struct embedded_file *f = embedded_docs; f->name; f++)
		if (!strcmp(f->name, "openapi.json")) {
			req_text(r, 200, "application/json", f->data, f->size);
			return;
		}
	req_problem(r, 404, "not-found", "Not found", NULL);
}

/* The MFA policy: on unless the setting says "0". */
static bool mfa_required(struct req *r)
{
	const char *v = NULL;
	struct err e;

	if (store_setting_get(r->srv->store, SETTING_MFA_REQUIRED, r->a, &v, &e) != RC_OK)
		return true;
	return !v || strcmp(v, "0") != 0;
}

static json_t *settings_json(bool mfa)
{
	return json_pack("{s:b}", "mfa_required_for_staff", mfa);
}

void h_settings_get(struct req *r)
{
	req_json(r, 200, settings_json(mfa_required(r)));
}

struct settings_in {
	bool mfa;
};

static const struct jfield settings_fields[] = {
	{ "mfa_required_for_staff", JT_BOOL, JF_REQUIRED, offsetof(struct settings_in, mfa), 0, 0, NULL },
};

static void settings_then(struct req *r)
{
	if (r->w.rc != RC_OK) {
		req_fail(r, r->w.rc, &r->w.err);
		return;
	}
	req_json(r, 200, settings_json(!strcmp(r->w.in.setting.value, "1")));
}

void h_settings_patch(struct req *r)
{
	struct settings_in in = { 0 };
	struct jseen seen;
	json_t *errs = json_array();

	if (!jschema_parse(r->json, settings_fields, ARRAY_SIZE(settings_fields), &in, &seen, errs)) {
		req_invalid(r, errs);
		return;
	}
	json_decref(errs);
	req_write_init(r, W_SETTING_SET, "settings.update", "setting");
	r->w.in.setting.key = SETTING_MFA_REQUIRED;
	r->w.in.setting.value = in.mfa ? "1" : "0";
	r->w.audit.detail = in.mfa ? "mfa_required_for_staff=true" : "mfa_required_for_staff=false";
	req_write(r, settings_then);
}

bool settings_mfa_required(struct req *r)
{
	return mfa_required(r);
}
