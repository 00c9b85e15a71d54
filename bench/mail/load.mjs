#!/usr/bin/env node
// bench/mail/load.mjs: the load of bench/mail/run (issue 8). Node 20, no
// dependencies: node:http over a keep-alive Agent, one request in flight
// on each of --conns connections.
//
//   node load.mjs --url URL --token TOKEN --mode mail    --seconds S --conns C [--seed N]
//   node load.mjs --url URL --token TOKEN --mode tickets --seconds S --conns C
//   node load.mjs --url URL --token TOKEN --mode tickets --count N --conns C
//
// mail: POST /api/v1/mail/inbound (message/rfc822). The messages are made
// before the clock starts (pre-generated in memory: headers, bodies,
// attachments); while measuring, a reply only gets the lines that depend
// on an earlier answer (its From: the earlier sender, its Subject with the
// ticket number [T-000123], or In-Reply-To/References: the earlier
// Message-ID) put in front of its pre-made rest. The mix: about 60 % new
// mail (a third of it from the demo's contacts, the rest from addresses in
// the clients' e-mail domains, unknown until their first message makes
// them contacts), about 40 % replies to tickets made earlier in the run by
// the same sender (half by the subject's number, half by In-Reply-To);
// 20 % of all messages carry a base64 PDF of 50-200 KB of random bytes;
// bodies are text/plain (UTF-8, quoted-printable), multipart/alternative,
// or HTML only, replies quote the earlier text (Gmail, Outlook or "> "
// style). Every message has its own Message-ID.
//
// tickets: POST /api/v1/tickets (JSON) for the baseline, or --count N
// tickets as fast as they are answered (bench/mail/run makes the outbox
// rows of the outbound measurement with it).
//
// Latency is per request, from the call to the end of the answer. The
// last line is for scripts:
//   RESULT mode=... seconds=... requests=... per_s=... p50_ms=... p99_ms=... max_ms=...
//          bytes_per_s=... acked=... non2xx=... status5xx=... errors=... ...
// Details (answers by status, actions, the first unexpected answers) go
// to --details FILE as JSON. Exit 0 when the run completed (the caller
// judges the counts), 2 on bad usage or when the server is unreachable.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (!a.startsWith('--')) usage(`unexpected ${a}`);
	args[a.slice(2)] = process.argv[++i];
}
function usage(msg) {
	console.error(`load.mjs: ${msg}`);
	process.exit(2);
}
const url = new URL(args.url || usage('--url is required'));
const token = args.token || usage('--token is required');
const mode = args.mode || 'mail';
const seconds = Number(args.seconds || 10);
const count = args.count ? Number(args.count) : 0;
const conns = Number(args.conns || 8);
const detailsFile = args.details || '';
let seed = Number(args.seed || 1) >>> 0;
if (!['mail', 'tickets'].includes(mode)) usage(`unknown --mode ${mode}`);

// ---- a seeded generator (mulberry32): the same mix on every run ----------------------
function rnd() {
	seed = (seed + 0x6d2b79f5) >>> 0;
	let t = seed;
	t = Math.imul(t ^ (t >>> 15), t | 1);
	t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
	return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
const runId = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;

// ---- the message material --------------------------------------------------------------
const contacts = [
	{ name: 'Dr. Alice Molar', addr: 'alice@acme-dental.example' },
	{ name: 'Bob Reception', addr: 'frontdesk@acme-dental.example' },
	{ name: 'Britta Nord', addr: 'britta@borealis.example' },
	{ name: 'Jonas Lager', addr: 'jonas@borealis.example' },
];
const domains = ['acme-dental.example', 'borealis.example'];
const first = ['anna', 'ben', 'clara', 'david', 'eva', 'felix', 'greta', 'hugo', 'ines', 'jan',
	'karla', 'lukas', 'mia', 'noah', 'olivia', 'paul', 'quinn', 'rosa', 'sven', 'tara'];
const last = ['berg', 'cole', 'diaz', 'eriksen', 'fischer', 'garcia', 'hansen', 'ito', 'jensen',
	'klein', 'lund', 'meyer', 'novak', 'olsen', 'petrov', 'ruiz', 'schmidt', 'tanaka'];
const unknownPool = 4000;   // addresses; a repeat finds the contact its first message made
const subjects = [
	'Printer on the second floor prints blank pages', 'Cannot log in to the practice software',
	'Outlook keeps asking for my password', 'VPN drops every few minutes',
	'New employee starting Monday: account and laptop', 'Scanner sends nothing to the shared folder',
	'Wi-Fi in the waiting room is down', 'Backup job failed last night',
	'Phone system: voicemail not working', 'Please install Acrobat on reception PC',
	'Invoice PDF will not open', 'Warehouse label printer offline', 'Shared drive is full',
	'Laptop very slow since the update', 'MFA: lost my phone',
];
const encodedSubjects = [
	'=?UTF-8?Q?Drucker_im_B=C3=BCro_druckt_nicht?=', '=?UTF-8?B?w5xiZXJ3YWNodW5nc2thbWVyYSBvZmZsaW5l?=',
	'=?ISO-8859-1?Q?R=F6ntgen-PC_startet_nicht?=',
];
const lines = [
	'Hello support team,', 'Hi,', 'Good morning,',
	'since this morning the problem described above happens on every workstation in the office.',
	'We already restarted the machine twice and it did not help.',
	'The error message says "Access denied (0x80070005)".',
	'Could someone please have a look today? Patients are waiting at the front desk.',
	'The issue started after the Windows update on Tuesday.',
	'Screenshot attached, please let me know if you need anything else.',
	'Kind regards,', 'Thanks a lot,', 'Best,',
];
const utf8Lines = ['Grüße aus dem Büro – das Gerät zeigt „Fehler 42“.', 'Merci beaucoup, à bientôt !',
	'Ärztin: Dr. Müller, Zimmer 3'];

function qp(s) { // quoted-printable of UTF-8 text (soft breaks at 76)
	const b = Buffer.from(s, 'utf8');
	let out = '', line = '';
	for (let i = 0; i < b.length; i++) {
		const c = b[i];
		let t;
		if (c === 0x0a) { out += line + '\r\n'; line = ''; continue; }
		if (c === 0x0d) continue;
		if ((c >= 33 && c <= 126 && c !== 61) || c === 32) t = String.fromCharCode(c);
		else t = '=' + c.toString(16).toUpperCase().padStart(2, '0');
		if (line.length + t.length > 75) { out += line + '=\r\n'; line = ''; }
		line += t;
	}
	return out + line;
}
function paragraph(n) {
	const out = [pick(lines.slice(0, 3)), ''];
	for (let i = 0; i < n; i++) out.push(pick(lines.slice(3, 9)));
	if (rnd() < 0.3) out.push(pick(utf8Lines));
	out.push('', pick(lines.slice(9)));
	return out;
}
function htmlOf(textLines) {
	return '<html><head><style>p{font-family:Calibri;color:#1f497d}</style>' +
		'<script>alert("x")</script></head><body>\r\n' +
		textLines.map((l) => (l ? `<p>${l.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>` : '<br>')).join('\r\n') +
		'\r\n<div style="display:none">tracking</div><img src="cid:logo@x" alt=""></body></html>';
}
function quoteOf(style, who, origLines) {
	if (style === 0) // Gmail
		return ['', `On Mon, 23 Nov 2026 at 10:04, ${who} wrote:`, ...origLines.map((l) => `> ${l}`)];
	if (style === 1) // Outlook
		return ['', '-----Original Message-----', `From: ${who}`, 'Sent: Monday, November 23, 2026 10:04 AM',
			'To: Support', 'Subject: RE: your request', '', ...origLines];
	return ['', ...origLines.slice(0, 3).map((l) => `> ${l}`)]; // "> " lines at the end
}
function textPart(textLines) {
	return 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
		qp(textLines.join('\n')) + '\r\n';
}
function htmlPart(textLines) {
	return 'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
		qp(htmlOf(textLines)) + '\r\n';
}
// body kinds: 0 text/plain, 1 multipart/alternative, 2 HTML only
function bodyOf(kind, textLines, n) {
	if (kind === 0) return textPart(textLines);
	if (kind === 2) return htmlPart(textLines);
	const b = `alt-${runId}-${n}`;
	return `Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n--${b}\r\n${textPart(textLines)}` +
		`--${b}\r\n${htmlPart(textLines)}--${b}--\r\n`;
}

// Attachments: a pool of distinct random PDFs, each base64 in 76-character
// lines, shared between messages (so 20 % of thousands of messages fit in
// memory); each message still has its own Message-ID and text.
const attachPool = [];
let attachBytes = 0;
function makeAttachments(n) {
	for (let i = 0; i < n; i++) {
		const size = 50 * 1024 + Math.floor(rnd() * 150 * 1024);
		const raw = Buffer.concat([Buffer.from('%PDF-1.4\n'), crypto.randomBytes(size - 9)]);
		const b64 = raw.toString('base64').replace(/.{76}/g, '$&\r\n');
		attachPool.push({ name: `scan-${i + 1}.pdf`, b64: Buffer.from(b64 + '\r\n'), size });
		attachBytes += size;
	}
}
// A message's MIME part (everything after the top headers that vary per
// message): [Buffer, ...] chunks, the attachment shared.
function mimeOf(kind, textLines, n, withAttachment) {
	const body = bodyOf(kind, textLines, n);
	if (!withAttachment) return { chunks: [Buffer.from(body)], attach: false };
	const b = `mix-${runId}-${n}`;
	const at = attachPool[n % attachPool.length];
	const head = `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\n${body}--${b}\r\n` +
		`Content-Type: application/pdf; name="${at.name}"\r\nContent-Disposition: attachment; filename="${at.name}"\r\n` +
		'Content-Transfer-Encoding: base64\r\n\r\n';
	return { chunks: [Buffer.from(head), at.b64, Buffer.from(`--${b}--\r\n`)], attach: true };
}
function rfcDate() {
	return new Date().toUTCString().replace('GMT', '+0000');
}

// A new message: the whole message pre-made.
function makeNew(n) {
	let from, unknown = false;
	if (rnd() < 0.35) from = pick(contacts);
	else {
		const k = Math.floor(rnd() * unknownPool);
		const d = domains[k % 2];
		const f = first[k % first.length], l = last[Math.floor(k / first.length) % last.length];
		from = { name: `${f[0].toUpperCase()}${f.slice(1)} ${l[0].toUpperCase()}${l.slice(1)}`, addr: `${f}.${l}.${runId}.${k}@${d}` };
		unknown = true;
	}
	const encoded = rnd() < 0.1;
	const subject = encoded ? pick(encodedSubjects) : `${pick(subjects)} (#${n})`;
	const r = rnd();
	const kind = r < 0.5 ? 0 : r < 0.8 ? 1 : 2;   // plain, alternative, HTML only
	const text = paragraph(2 + Math.floor(rnd() * 4));
	const mid = `bench.${runId}.${n}@mail.${from.addr.split('@')[1]}`;
	const head = `From: "${from.name}" <${from.addr}>\r\nTo: Support <support@desk.example>\r\n` +
		`Subject: ${subject}\r\nDate: ${rfcDate()}\r\nMessage-ID: <${mid}>\r\nMIME-Version: 1.0\r\n`;
	const m = mimeOf(kind, text, n, rnd() < 0.2);
	return { chunks: [Buffer.from(head), ...m.chunks], from, unknown, subject, mid, attach: m.attach, kind, text };
}
// A reply: all but the From, Subject and threading lines pre-made.
function makeReply(n) {
	const r = rnd();
	const kind = r < 0.5 ? 0 : r < 0.8 ? 1 : 2;
	const text = paragraph(1 + Math.floor(rnd() * 2));
	const quoted = [...text, ...quoteOf(n % 3, 'Support <support@desk.example>', paragraph(2))];
	const mid = `bench.${runId}.r${n}@mail.reply.example`;
	const rest = `To: Support <support@desk.example>\r\nDate: ${rfcDate()}\r\nMessage-ID: <${mid}>\r\nMIME-Version: 1.0\r\n`;
	const m = mimeOf(kind, quoted, 1000000 + n, rnd() < 0.2);
	return { chunks: [Buffer.from(rest), ...m.chunks], mid, attach: m.attach, kind };
}

// ---- HTTP -------------------------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
function post(path, contentType, chunks) {
	return new Promise((resolve) => {
		let len = 0;
		for (const c of chunks) len += c.length;
		const t0 = process.hrtime.bigint();
		const req = http.request({
			host: url.hostname, port: url.port, path, method: 'POST', agent,
			headers: { 'Authorization': `Bearer ${token}`, 'Content-Type': contentType, 'Content-Length': len },
		}, (res) => {
			const parts = [];
			res.on('data', (d) => parts.push(d));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts).toString(),
				ms: Number(process.hrtime.bigint() - t0) / 1e6, len }));
			res.on('error', (e) => resolve({ status: 0, body: String(e), ms: 0, len }));
		});
		req.setTimeout(30000, () => req.destroy(new Error('timeout after 30 s')));
		req.on('error', (e) => resolve({ status: 0, body: String(e), ms: 0, len }));
		for (const c of chunks) req.write(c);
		req.end();
	});
}

// ---- the run ----------------------------------------------------------------------------
const st = {
	requests: 0, acked: 0, non2xx: 0, s5xx: 0, errors: 0, bytes: 0, lat: [],
	byStatus: {}, actions: {}, unexpected: [], created: 0, appended: 0, threadMismatch: 0,
	repliesTag: 0, repliesIrt: 0, newSent: 0, attachAcked: 0, htmlOnlyAcked: 0, unknownAcked: new Set(),
	madeDuringRun: 0,
};
function note(r, what) {
	st.requests++;
	st.bytes += r.len;
	st.byStatus[r.status] = (st.byStatus[r.status] || 0) + 1;
	if (r.status === 0) st.errors++;
	else st.lat.push(r.ms);
	if (r.status >= 200 && r.status < 300) st.acked++;
	else if (r.status) st.non2xx++;
	if (r.status >= 500) st.s5xx++;
	if ((r.status < 200 || r.status >= 300) && st.unexpected.length < 20)
		st.unexpected.push({ what, status: r.status, body: r.body.slice(0, 400) });
}

async function ticketsMode() {
	const descr = paragraph(4).join('\n');
	let n = 0;
	const deadline = count ? Infinity : Date.now() + seconds * 1000;
	const t0 = process.hrtime.bigint();
	async function worker() {
		while (Date.now() < deadline && (!count || n < count)) {
			const i = n++;
			const c = 1 + (i % 4);
			const body = JSON.stringify({ client_id: c <= 2 ? 1 : 2, subject: `${pick(subjects)} (#${i})`,
				description: descr, requester_contact_id: c });
			const r = await post('/api/v1/tickets', 'application/json', [Buffer.from(body)]);
			note(r, 'ticket');
		}
	}
	await Promise.all(Array.from({ length: conns }, worker));
	return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function mailMode() {
	// Pre-generate: enough for ~1,000 messages/s (the run reports when it
	// had to make more while measuring).
	const budget = Math.max(2000, Math.ceil(seconds * 1000));
	makeAttachments(48);
	const news = [], replies = [];
	const tg = Date.now();
	for (let i = 0; i < Math.ceil(budget * 0.62); i++) news.push(makeNew(i));
	for (let i = 0; i < Math.ceil(budget * 0.42); i++) replies.push(makeReply(i));
	const genMs = Date.now() - tg;
	const done = [];   // tickets made in this run: {id, number, from, subject, mid}
	let ni = 0, ri = 0, sent = 0;
	const deadline = Date.now() + seconds * 1000;
	const t0 = process.hrtime.bigint();
	async function worker() {
		while (Date.now() < deadline) {
			const n = sent++;
			// 40 % replies once there is a ticket to answer (made by an earlier answer).
			if (done.length && rnd() < 0.4) {
				if (ri >= replies.length) { replies.push(makeReply(ri)); st.madeDuringRun++; }
				const rp = replies[ri++];
				const t = done[Math.floor(rnd() * done.length)];
				const byTag = n % 2 === 0;
				const dyn = byTag
					? `From: "${t.from.name}" <${t.from.addr}>\r\nSubject: Re: [${t.number}] ${t.subject}\r\n`
					: `From: "${t.from.name}" <${t.from.addr}>\r\nSubject: Re: ${t.subject}\r\nIn-Reply-To: <${t.mid}>\r\nReferences: <${t.mid}>\r\n`;
				if (byTag) st.repliesTag++; else st.repliesIrt++;
				const r = await post('/api/v1/mail/inbound', 'message/rfc822', [Buffer.from(dyn), ...rp.chunks]);
				note(r, byTag ? 'reply by [T-n]' : 'reply by In-Reply-To');
				if (r.status >= 200 && r.status < 300) {
					let a = {};
					try { a = JSON.parse(r.body); } catch { /* counted below */ }
					st.actions[a.action] = (st.actions[a.action] || 0) + 1;
					if (a.action === 'appended') st.appended++;
					if (a.action === 'created') st.created++;
					if (a.action !== 'appended' || a.ticket_id !== t.id) {
						st.threadMismatch++;
						if (st.unexpected.length < 20)
							st.unexpected.push({ what: `reply to ${t.number}`, status: r.status, body: r.body.slice(0, 400) });
					}
					if (rp.attach) st.attachAcked++;
					if (rp.kind === 2) st.htmlOnlyAcked++;
				}
			} else {
				if (ni >= news.length) { news.push(makeNew(ni)); st.madeDuringRun++; }
				const m = news[ni++];
				st.newSent++;
				const r = await post('/api/v1/mail/inbound', 'message/rfc822', m.chunks);
				note(r, `new mail from ${m.from.addr}${m.unknown ? ' (an address unknown before this run)' : ''}`);
				if (r.status >= 200 && r.status < 300) {
					let a = {};
					try { a = JSON.parse(r.body); } catch { /* counted below */ }
					st.actions[a.action] = (st.actions[a.action] || 0) + 1;
					if (a.action === 'created') {
						st.created++;
						done.push({ id: a.ticket_id, number: a.number, from: m.from, subject: m.subject, mid: m.mid });
					} else if (a.action === 'appended') st.appended++;
					if (a.action !== 'created' && st.unexpected.length < 20)
						st.unexpected.push({ what: `new mail from ${m.from.addr}`, status: r.status, body: r.body.slice(0, 400) });
					if (m.unknown) st.unknownAcked.add(m.from.addr.toLowerCase());
					if (m.attach) st.attachAcked++;
					if (m.kind === 2) st.htmlOnlyAcked++;
				}
			}
		}
	}
	await Promise.all(Array.from({ length: conns }, worker));
	st.genMs = genMs;
	st.pregenerated = news.length + replies.length - st.madeDuringRun;
	st.attachPoolMiB = attachBytes / 1048576;
	return Number(process.hrtime.bigint() - t0) / 1e9;
}

function pct(sorted, p) {
	if (!sorted.length) return 0;
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const cpu0 = process.cpuUsage();
const elapsed = mode === 'tickets' ? await ticketsMode() : await mailMode();
const cpu = process.cpuUsage(cpu0);
agent.destroy();
const lat = st.lat.sort((a, b) => a - b);
const f = (x) => x.toFixed(2);
const out = {
	mode, seconds: f(elapsed), conns, requests: st.requests, per_s: f(st.requests / elapsed),
	acked_per_s: f(st.acked / elapsed), p50_ms: f(pct(lat, 50)), p99_ms: f(pct(lat, 99)),
	max_ms: f(lat.length ? lat[lat.length - 1] : 0), bytes_per_s: Math.round(st.bytes / elapsed),
	bytes: st.bytes, acked: st.acked, non2xx: st.non2xx, status5xx: st.s5xx, errors: st.errors,
	load_cpu_pct: f((100 * (cpu.user + cpu.system)) / 1e6 / elapsed),
};
if (mode === 'mail') Object.assign(out, {
	new_sent: st.newSent, replies_tag: st.repliesTag, replies_irt: st.repliesIrt, created: st.created,
	appended: st.appended, thread_mismatch: st.threadMismatch, attach_acked: st.attachAcked,
	html_only_acked: st.htmlOnlyAcked, unknown_senders_acked: st.unknownAcked.size,
	pregenerated: st.pregenerated, made_during_run: st.madeDuringRun, gen_ms: st.genMs,
	attach_pool_mib: f(st.attachPoolMiB),
});
if (detailsFile)
	fs.writeFileSync(detailsFile, JSON.stringify({ ...out, by_status: st.byStatus, actions: st.actions,
		unexpected: st.unexpected }, null, 1));
for (const u of st.unexpected.slice(0, 5)) console.log(`  unexpected (${u.what}): ${u.status} ${u.body.replace(/\s+/g, ' ').slice(0, 200)}`);
console.log('RESULT ' + Object.entries(out).map(([k, v]) => `${k}=${v}`).join(' '));
