/*
 * web.c: the browser UI (web/), compiled into the binary by
 * scripts/embed.py, so it is installed with it and always matches the API
 * it speaks. GET / is the page; GET /ui/NAME an asset (flat names, no
 * directories). Everything else under / that is not the API is 404.
 *
 * The page's security comes from the headers every answer carries
 * (server.c): a CSP without inline script or style, no framing, no
 * referrer. The UI uses only the public API, with the session cookie and
 * the CSRF header.
 */
#include "base/common.h"

#include "base/embed.h"
#include "http/http.h"

struct ctype {
	const char *ext, *type;
};

static const struct ctype ctypes[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".json", "application/json" },
};

static const char *ctype_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(ctypes); i++) {
		size_t k = strlen(ctypes[i].ext);
		if (n > k && !strcmp(name + n - k, ctypes[i].ext))
			return ctypes[i].type;
	}
	return NULL;
}

/* FNV-1a of the content: the asset's ETag. */
static uint64_t asset_hash(const struct embedded_file *f)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < f->size; i++) {
		h ^= (unsigned char)f->data[i];
		h *= 1099511628211ull;
	}
	return h;
}

const struct embedded_file *web_asset(const char *name)
{
	for (const struct embedded_file *f = embedded_web; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

bool web_serve(struct req *r, const char *path)
{
	const struct embedded_file *f;
	const char *name, *type;

	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return false;
	if (!strcmp(path, "/"))
		name = "index.html";
	else if (!strncmp(path, "/ui/", 4))
		name = path + 4;
	else
		return false;
	f = strchr(name, '/') ? NULL : web_asset(name);
	type = f ? ctype_of(f->name) : NULL;
	if (!f || !type) {
		req_problem(r, 404, "not-found", "Not found", "no such page");
		return true;
	}
	/* Assets are revalidated (ETag, 304), never stored stale: a new
	 * binary brings new ones. The page itself keeps no-store. */
	if (f != web_asset("index.html")) {
		char etag[24];
		const char *inm = req_header_in(r, "If-None-Match");
		snprintf(etag, sizeof(etag), "\"%016" PRIx64 "\"", asset_hash(f));
		req_header(r, "ETag", arena_strdup(r->a, etag));
		req_header(r, "Cache-Control", "no-cache");
		if (inm && !strcmp(inm, etag)) {
			req_text(r, 304, NULL, "", 0);
			return true;
		}
	}
	req_text(r, 200, type, f->data, f->size);
	return true;
}
