// reports-imported.test.mjs: the SLA review (issue 9; docs/REPORTS.md) of
// an imported history (docs/IMPORT.md) with known answers. Every figure of
// March 2027 and of the period before it is worked out by hand below, from
// the definitions in docs/REPORTS.md and docs/SLA.md and the calendar, and
// the API's JSON is compared with those numbers (not with a copy of its own
// output). Also: the CSV rows and their in-period flags, the HTML pack,
// `itsup report sla-review`, and tenant isolation.
//
// ---- The setting ------------------------------------------------------------------------------
//
// A new client in Europe/Berlin. Its calendar: Mon-Fri 08:00-17:00 local
// (9 h a day), holiday Good Friday 2027-03-26 (closed). Easter Sunday
// 2027-03-28 is also the day Berlin goes to summer time (01:00Z: 02:00 CET
// -> 03:00 CEST): CET is UTC+1 before it, CEST UTC+2 after. Its policy
// (contract from 2027-01-01, before all the data), business seconds:
//
//   P1 response 1800 (30 m), resolution 14400 (4 h)
//   P2 response 3600 (1 h),  resolution 28800 (8 h)
//   P3 response 7200 (2 h),  resolution 57600 (16 h)
//   P4 response 14400 (4 h), resolution 115200 (32 h)
//   pauses: pending_customer, pending_vendor
//
// The import's instant (the test clock): Thu 2027-04-15 12:00Z (14:00 CEST).
//
// The periods (client days): March = [2027-03-01 00:00 CET, 2027-04-01 00:00
// CEST) = [2027-02-28T23:00Z, 2027-03-31T22:00Z). The previous period is
// the same 31 days ending at March 1: [2027-01-29, 2027-03-01) =
// [2027-01-28T23:00Z, 2027-02-28T23:00Z). March 1 is a Monday; March's
// weeks start 03-01, 03-08, 03-15, 03-22 (to 03-29 00:00 CEST =
// 03-28T22:00Z) and 03-29 (three days).
//
// ---- The tickets (file order = number order), local times --------------------------------------
//
// Notation: resp = response business seconds (rs), res = resolution
// business seconds, tN = business seconds at tier N while the resolution
// clock ran, fcr = the verdict at the last resolution.
//
// J0  P3 incident email network. Mon 01-04 09:00, answered 09:10, resolved
//     10:00, closed 01-08. Before both periods and done: read by nothing.
// J1  P3 incident api network. Wed 01-27 10:00 (before the previous
//     period), answered 10:30 (resp 1800), resolved Wed 03-03 12:00.
//     res = Jan 27 7 h + Jan 28-29 18 h + Feb 1-26 (20 days) 180 h + Mar 1-2
//     18 h + Mar 3 4 h = 227 h = 817200 (breached, but opened in no period).
//     t1 817200. fcr 1 (tier 1, no escalation).
// F6  P4 incident email printing. Created 2027-01-28T23:30Z = Fri 01-29
//     00:30 CET: in the previous period (a UTC day would put it in January).
//     Answered 08:15: resp 900 (the clock starts at 08:00). Resolved 10:00:
//     res 7200. fcr 1. CSAT 4 at 01-29 11:00.
// F1  P2 incident email network. Mon 02-01 09:00, answered 09:30 (1800),
//     resolved 11:00 (7200). fcr 1. CSAT 5 at 12:00.
// F2  P3 service_request portal accounts. Fri 02-12 16:00, answered Mon
//     02-15 08:30: resp 1 h + 30 m = 5400 (met, 7200). Resolved 12:00: res
//     1 h + 4 h = 18000. Closed Fri 02-19 10:00. fcr 1. CSAT 1 "Too slow"
//     at Mon 02-15 13:00.
// F4  P4 problem api (no category). Wed 02-17 10:00, answered 11:00 (3600),
//     pending_customer from Thu 02-18 10:00 until now: res 7 h + 2 h =
//     32400, paused: resolution pending (no breach: 32400 < 115200).
//     Open at every instant of both periods. fcr undecided.
// F5  P3 change monitoring backup. Mon 02-22 08:00, never answered,
//     resolved 09:00 (res 3600; the response clock stopped at the
//     resolution, at 3600, not breached), closed Mon 03-01 10:00 (closed in
//     March, resolved in February). Response: never answered but resolved
//     unbreached: met (a resolution stops the response clock), and not a
//     response-time sample. fcr 1.
// F3  P2 incident phone network. Thu 02-25 14:00, answered 14:20 (1200),
//     tier 2 at 15:00, pending_customer Fri 02-26 10:00 to Mon 03-01 10:00,
//     resolved Tue 03-02 10:00. res: Thu 14-17 3 h (t1 1 h, t2 2 h), Fri
//     08-10 2 h, Mon 10-17 7 h, Tue 08-10 2 h = 14 h = 50400 > 28800:
//     resolution breached. t1 3600, t2 46800. Wall time Feb 25 13:00Z to
//     Mar 2 09:00Z = 116 h = 417600; paused_seconds 417600 - 50400 = 367200.
//     1 escalation, 1 tier change: fcr 0. CSAT 3 at Tue 03-02 11:00.
// M12 P4 incident portal printing. Created 2027-02-28T23:30Z = Mon 03-01
//     00:30 CET: in March (a UTC day would put it in February). Answered
//     08:25 (1500), resolved 10:00 (7200). fcr 1. CSAT 5 at 11:00.
// M2  P2 service_request portal accounts. Mon 03-01 09:00, answered 09:25
//     (1500), pending_customer 10:00 to Wed 03-03 14:00, resolved 16:00:
//     res 1 h + 2 h = 10800. fcr 1. CSAT 4 at 17:00.
// M3  P3 incident phone printing. Tue 03-02 10:00, answered 10:10 (600),
//     resolved 12:00, reopened Fri 03-12 09:00 (after 9 days 21 h: not
//     within 7 days), resolved 11:00: res 2 h + 2 h = 14400. reopens 1,
//     fcr 1.
// M4  P2 incident email email. Wed 03-03 08:00, answered 08:20 (1200),
//     resolved 09:00, reopened Mon 03-08 10:00 (within 7 days), resolved
//     12:00: res 1 h + 2 h = 10800. reopens 1, fcr 0. CSAT 2 with a comment
//     full of markup at Mon 03-08 13:00.
// M15 P3 -> P1 incident phone network. Wed 03-03 10:00 as P3, answered
//     10:45 (2700), raised to P1 at 11:00, resolved 13:00 (10800). Under
//     P1 (the targets of the priority it has now, from creation) the
//     response target 1800 was reached at 10:30, before the answer:
//     response breached; resolution 10800 < 14400 met. paused 3 h - 3 h =
//     0. fcr 1 (a priority change is not an escalation).
// M5  P1 incident monitoring server. Tue 03-09 09:00, answered 09:20
//     (1200), tier 2 at 10:00, tier 3 at 12:00, back to tier 2 at 15:00,
//     resolved Wed 03-10 11:00: res Tue 8 h + Wed 3 h = 39600 > 14400:
//     resolution breached. t1 3600, t2 (10-12, 15-17, Wed 8-11) 25200, t3
//     10800: held by tier 2. Wall 26 h = 93600: paused 54000. 2
//     escalations, 3 tier changes, fcr 0.
// M6  P2 problem api server, vendor Fortinet. Thu 03-11 10:00,
//     pending_vendor 10:30 to Mon 03-15 10:00, answered 10:45, resolved
//     12:00. resp 30 m + 45 m = 4500 > 3600: response breached (the pause
//     stops both clocks). res 30 m + 2 h = 9000 met. t1 9000. Wall 98 h =
//     352800: paused 343800. The vendor is one escalation: fcr 0.
// M7  P3 service_request portal accounts, tier 2 from creation. Mon 03-15
//     13:00, answered 14:00 (3600), resolved Tue 03-16 10:00: res 4 h + 2 h
//     = 21600; t2 21600 (business time at tier 2: counted in tier 2's
//     rate), no tier change; fcr 0 (not resolved at tier 1). CSAT 1 "Late
//     answer" at 2027-03-31T22:30Z = Thu 04-01 00:30 CEST: April, not March.
// M8  P1 -> P3 incident phone (no category). Wed 03-17 16:00 as P1,
//     answered Thu 03-18 08:45: resp 1 h + 45 m = 6300 > 1800: breached
//     under P1 (at Wed 16:30). Lowered to P3 at 09:00: under P3 the 6300
//     would be on time (7200), but a breach once seen stays (docs/SLA.md
//     rule 6; the import replays the log at each priority change under the
//     targets it had until then): response breached, and it counts as P3
//     (its priority now). Resolved 10:00: res 1 h + 2 h = 10800 met. Wall
//     18 h = 64800: paused 54000. fcr 1.
// M9  P4 service_request portal accounts. Mon 03-22 08:30, answered 08:55
//     (1500), resolved 10:30 (7200), closed Wed 03-24 10:30. fcr 1. CSAT 5
//     "Thanks, quick" at 11:00.
// M14 P1 change api server. Tue 03-23 08:00, answered 08:40 (2400 > 1800:
//     response breached), tier 3 at 10:00, back to tier 1 at 12:00,
//     resolved 12:00: res 4 h = 14400 = the target, reached exactly at the
//     resolution: on time (met). t1 7200, t3 7200: a tie, held by tier 1.
//     paused 0. 1 escalation, 2 tier changes, fcr 0.
// M1  P2 incident email network, across Good Friday, the weekend and the
//     DST change. Thu 03-25 15:30 CET (14:30Z), answered 16:00 (1800),
//     resolved Tue 03-30 09:00 CEST (07:00Z). res: Thu 1.5 h, Fri holiday,
//     Sat-Sun closed, Mon 03-29 9 h, Tue 08:00-09:00 CEST 1 h = 11.5 h =
//     41400 > 28800: resolution breached. Wall time 112.5 h = 405000 (the
//     night of the change has 23 h): paused 363600. fcr 1. CSAT 4 "Fixed
//     after Easter" at Tue 03-30 10:00 CEST.
// M17 P4 change monitoring backup. Created 2027-03-28T22:30Z = Mon 03-29
//     00:30 CEST, the first half hour of the fifth week (which starts at
//     22:00Z, the first local midnight in summer time; a week of 7 x 24 h
//     from 03-01 would start at 23:00Z and put it in the fourth). Never
//     answered, resolved Mon 08:10 CEST (06:10Z): res 600 (opening at
//     08:00 local = 06:00Z in summer time), response met (as F5). fcr 1.
// M10 P2 incident api network. Tue 03-30 16:00 CEST, never answered, still
//     new at the import: both clocks ran to now: Mar 30 1 h + Mar 31 9 h +
//     Apr 1-2 18 h + Apr 5-9 45 h + Apr 12-14 27 h + Apr 15 08-14 6 h =
//     106 h = 381600 each, both breached. paused 0 (not resolved).
// M11 P3 problem email backup. Wed 03-31 09:00 CEST, answered 09:30 (1800),
//     pending_customer from 10:00 until now: res 3600, resolution pending.
// M16 P4 incident email "Email" (capital E: its own category). Wed 03-31
//     14:00 CEST, answered 14:25 (1500), resolved Thu 04-01 10:00 CEST
//     (after the period): res 3 h + 2 h = 18000, met; it counts in March's
//     resolution times and SLA but is not resolved in March. fcr 1.
// M13 P3 incident api. Created 2027-03-31T22:30Z = Thu 04-01 00:30 CEST:
//     April for this client (March in UTC). Open.
//
// ---- March (period) -----------------------------------------------------------------------------
//
// Opened (16): M12 M2 M3 M4 M15 M5 M6 M7 M8 M9 M14 M1 M17 M10 M11 M16.
// Resolved (15): J1 F3 M12 M2 M3 M4 M15 M5 M6 M7 M8 M9 M14 M1 M17.
// Closed (2): F5, M9. Reopened (resolved in March with reopens >= 1): M3 M4.
// Backlog at start (2027-02-28T23:00Z): J1 F4 F3 = 3 (F5 resolved before;
// M12 created after). Backlog at end (2027-03-31T22:00Z): F4 M10 M11 M16 = 4.
// By priority: P1 M15 M5 M14 = 3; P2 M2 M4 M6 M1 M10 = 5; P3 M3 M7 M11 M8
// = 4; P4 M12 M9 M17 M16 = 4. By type: incident 9, service_request 3 (M2 M7
// M9), problem 2 (M6 M11), change 2 (M14 M17). By channel: portal 4 (M12 M2
// M7 M9), api 3 (M6 M14 M10), email 4 (M4 M1 M11 M16), phone 3 (M3 M15 M8),
// monitoring 2 (M5 M17). By category, largest first then byte order:
// accounts 3, network 3, server 3, backup 2, printing 2, "" 1 (M8), Email 1,
// email 1.
//
// SLA (all 16 have the policy):
//   P1 response: met M5; breached M15 M14            -> 1/2/0, 0.3333
//   P1 resolution: met M15 M14; breached M5          -> 2/1/0, 0.6667
//   P2 response: met M2 M4 M1; breached M6 M10       -> 3/2/0, 0.6
//   P2 resolution: met M2 M4 M6; breached M1 M10     -> 3/2/0, 0.6
//   P3 response: met M3 M7 M11; breached M8          -> 3/1/0, 0.75
//   P3 resolution: met M3 M7 M8; pending M11         -> 3/0/1, 1
//   P4 response: met M12 M9 M16 M17 (resolved)       -> 4/0/0, 1
//   P4 resolution: met M12 M9 M17 M16                -> 4/0/0, 1
//   all response 11/5/0 = 11/16 = 0.6875; all resolution 12/3/1 = 12/15 = 0.8.
// Breached (by id): M15 (response, P1, tier 1, 0), M5 (resolution, P1, tier
// 2, 54000), M6 (response, P2, tier 1, vendor, 343800), M8 (response, P3,
// tier 1, 54000), M14 (response, P1, tier 1 by the tie, 0), M1 (resolution,
// P2, tier 1, 363600), M10 (both, P2, tier 1, 0: not resolved).
// Response times (14 answered; M10, M17 not): 600 1200 1200 1500 1500
// 1500 1500 1800 1800 2400 2700 3600 4500 6300: median = the lower
// middle, 7th = 1500 (the 8th is 1800); p90 = ceil(12.6) = 13th = 4500;
// mean 32100 / 14 = 2292.86 -> 2292.
// Resolution times (14 resolved, M16 after the period included): 600
// 7200 7200 9000 10800 10800 10800 10800 14400 14400 18000 21600 39600
// 41400: median 7th = 10800; p90 ceil(12.6) = 13th = 39600; mean 216600 /
// 14 = 15471.43 -> 15471.
// FCR over the 15 resolved: first contact J1 M12 M2 M3 M15 M8 M9 M1 M17 =
// 9 -> 9/15 = 0.6.
// Escalation over 16 opened: tier 2 M5 M7 = 2 (0.125), tier 3 M5 M14 = 2
// (0.125), vendor M6 = 1 (0.0625); tier changes 3 + 2 = 5, mean 0.3125.
// CSAT given in March: F3 3, M12 5, M2 4, M4 2, M9 5, M1 4 = 6 answers,
// 23 / 6 = 3.83; distribution 1:0 2:1 3:1 4:2 5:2; comments M4, M9, M1
// (by ticket id). M7's answer is April's.
// Hours: none logged: 0 everywhere. Monitoring: no alert, no device.
// Weeks (opened / resolved / FCR decided / first contact / rate):
//   03-01: M12 M2 M3 M4 M15 = 5 / J1 F3 M12 M2 M15 = 5 / 5 / 4 / 0.8
//   03-08: M5 M6 = 2 / M4 M5 M3 = 3 / 3 / 1 / 0.3333
//   03-15: M7 M8 = 2 / M6 M7 M8 = 3 / 3 / 1 / 0.3333
//   03-22: M9 M14 M1 = 3 / M9 M14 = 2 / 2 / 1 / 0.5
//   03-29: M17 M10 M11 M16 = 4 / M1 M17 = 2 / 2 / 2 / 1
//
// ---- The previous period (2027-01-29 to 2027-03-01) -----------------------------------------
//
// Opened (6): F6 F1 F2 F4 F5 F3. Resolved (4): F6 F1 F2 F5. Closed (1): F2.
// Reopened 0. Backlog at start (2027-01-28T23:00Z): J1 = 1; at end: J1 F4
// F3 = 3. By priority P2 2 (F1 F3), P3 2 (F2 F5), P4 2 (F6 F4). By type
// incident 3, service_request 1, problem 1, change 1. By channel portal 1,
// api 1, email 2, phone 1, monitoring 1. By category network 2, then ""
// accounts backup printing 1 each.
// SLA: P2 response 2/0/0 = 1, resolution 1/1/0 = 0.5 (F3); P3 response
// 2/0/0 = 1 (F5 met by its resolution), resolution 2/0/0 = 1; P4 response
// 2/0/0 = 1, resolution 1/0/1 = 1 (F4 pending); all response 6/0/0 = 1,
// resolution 4/1/1 = 0.8. Breached: F3 (resolution, P2, tier 2, 367200).
// Response times 900 1200 1800 3600 5400: median 1800, p90 5th = 5400, mean
// 2580. Resolution times (F3 resolved in March included) 3600 7200 7200
// 18000 50400: median 7200, p90 50400, mean 86400 / 5 = 17280.
// FCR: F6 F1 F2 F5 all first contact: 4/4 = 1. Escalation over 6: tier 2 F3
// (0.1667), tier 3 0, vendor 0; tier changes 1 (0.1667).
// CSAT: F6 4, F1 5, F2 1 = 3 answers, 10 / 3 = 3.33, comment F2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ACME, BOREALIS, DEMO, cli, startServer } from './lib/server.mjs';
import { assertProblem, assertStatus, uniq } from './lib/util.mjs';
import { assertWellFormedXml } from './lib/monitor.mjs';

const NOW = '2027-04-15T12:00:00Z';
const JSONL = 'application/x-ndjson';
const MARCH = 'from=2027-03-01&to=2027-04-01';

let srv, c, client;
const T = {};
const tk = {};          // external id -> {id, number}
let imported;
let acmeBefore, borealisBefore, allBefore;

/* An instant as the API writes it. */
const Z = (s) => new Date(s).toISOString().replace(/\.000Z$/, 'Z');

/* The dataset (see the comment above); client_id is filled in later. */
const DATA = [
  { x: 'J0', priority: 'P3', type: 'incident', channel: 'email', category: 'network',
    created_at: '2027-01-04T09:00:00+01:00', first_response_at: '2027-01-04T09:10:00+01:00',
    resolved_at: '2027-01-04T10:00:00+01:00', closed_at: '2027-01-08T10:00:00+01:00' },
  { x: 'J1', priority: 'P3', type: 'incident', channel: 'api', category: 'network',
    created_at: '2027-01-27T10:00:00+01:00', first_response_at: '2027-01-27T10:30:00+01:00',
    resolved_at: '2027-03-03T12:00:00+01:00' },
  { x: 'F6', priority: 'P4', type: 'incident', channel: 'email', category: 'printing',
    created_at: '2027-01-28T23:30:00Z', first_response_at: '2027-01-29T08:15:00+01:00',
    resolved_at: '2027-01-29T10:00:00+01:00', csat: { rating: 4, at: '2027-01-29T11:00:00+01:00' } },
  { x: 'F1', priority: 'P2', type: 'incident', channel: 'email', category: 'network',
    created_at: '2027-02-01T09:00:00+01:00', first_response_at: '2027-02-01T09:30:00+01:00',
    resolved_at: '2027-02-01T11:00:00+01:00', csat: { rating: 5, at: '2027-02-01T12:00:00+01:00' } },
  { x: 'F2', priority: 'P3', type: 'service_request', channel: 'portal', category: 'accounts',
    created_at: '2027-02-12T16:00:00+01:00', first_response_at: '2027-02-15T08:30:00+01:00',
    resolved_at: '2027-02-15T12:00:00+01:00', closed_at: '2027-02-19T10:00:00+01:00',
    csat: { rating: 1, comment: 'Too slow', at: '2027-02-15T13:00:00+01:00' } },
  { x: 'F4', priority: 'P4', type: 'problem', channel: 'api',
    created_at: '2027-02-17T10:00:00+01:00', first_response_at: '2027-02-17T11:00:00+01:00',
    events: [{ at: '2027-02-18T10:00:00+01:00', status: 'pending_customer' }], status: 'pending_customer' },
  { x: 'F5', priority: 'P3', type: 'change', channel: 'monitoring', category: 'backup',
    created_at: '2027-02-22T08:00:00+01:00', resolved_at: '2027-02-22T09:00:00+01:00',
    closed_at: '2027-03-01T10:00:00+01:00' },
  { x: 'F3', priority: 'P2', type: 'incident', channel: 'phone', category: 'network',
    created_at: '2027-02-25T14:00:00+01:00', first_response_at: '2027-02-25T14:20:00+01:00',
    resolved_at: '2027-03-02T10:00:00+01:00',
    events: [{ at: '2027-02-25T15:00:00+01:00', tier: 2 },
      { at: '2027-02-26T10:00:00+01:00', status: 'pending_customer' },
      { at: '2027-03-01T10:00:00+01:00', status: 'open' }],
    csat: { rating: 3, at: '2027-03-02T11:00:00+01:00' } },
  { x: 'M12', priority: 'P4', type: 'incident', channel: 'portal', category: 'printing',
    created_at: '2027-02-28T23:30:00Z', first_response_at: '2027-03-01T08:25:00+01:00',
    resolved_at: '2027-03-01T10:00:00+01:00', csat: { rating: 5, at: '2027-03-01T11:00:00+01:00' } },
  { x: 'M2', priority: 'P2', type: 'service_request', channel: 'portal', category: 'accounts',
    created_at: '2027-03-01T09:00:00+01:00', first_response_at: '2027-03-01T09:25:00+01:00',
    resolved_at: '2027-03-03T16:00:00+01:00',
    events: [{ at: '2027-03-01T10:00:00+01:00', status: 'pending_customer' },
      { at: '2027-03-03T14:00:00+01:00', status: 'open' }],
    csat: { rating: 4, at: '2027-03-03T17:00:00+01:00' } },
  { x: 'M3', priority: 'P3', type: 'incident', channel: 'phone', category: 'printing',
    created_at: '2027-03-02T10:00:00+01:00', first_response_at: '2027-03-02T10:10:00+01:00',
    resolved_at: '2027-03-12T11:00:00+01:00',
    events: [{ at: '2027-03-02T12:00:00+01:00', status: 'resolved' },
      { at: '2027-03-12T09:00:00+01:00', reopened: true }] },
  { x: 'M4', priority: 'P2', type: 'incident', channel: 'email', category: 'email',
    created_at: '2027-03-03T08:00:00+01:00', first_response_at: '2027-03-03T08:20:00+01:00',
    resolved_at: '2027-03-08T12:00:00+01:00',
    events: [{ at: '2027-03-03T09:00:00+01:00', status: 'resolved' },
      { at: '2027-03-08T10:00:00+01:00', reopened: true }],
    csat: { rating: 2, comment: 'Came back after the weekend <again> & "again"', at: '2027-03-08T13:00:00+01:00' } },
  { x: 'M15', priority: 'P3', type: 'incident', channel: 'phone', category: 'network',
    created_at: '2027-03-03T10:00:00+01:00', first_response_at: '2027-03-03T10:45:00+01:00',
    resolved_at: '2027-03-03T13:00:00+01:00',
    events: [{ at: '2027-03-03T11:00:00+01:00', priority: 'P1' }] },
  { x: 'M5', priority: 'P1', type: 'incident', channel: 'monitoring', category: 'server',
    created_at: '2027-03-09T09:00:00+01:00', first_response_at: '2027-03-09T09:20:00+01:00',
    resolved_at: '2027-03-10T11:00:00+01:00',
    events: [{ at: '2027-03-09T10:00:00+01:00', tier: 2 }, { at: '2027-03-09T12:00:00+01:00', tier: 3 },
      { at: '2027-03-09T15:00:00+01:00', tier: 2 }] },
  { x: 'M6', priority: 'P2', type: 'problem', channel: 'api', category: 'server', vendor: 'Fortinet',
    created_at: '2027-03-11T10:00:00+01:00', first_response_at: '2027-03-15T10:45:00+01:00',
    resolved_at: '2027-03-15T12:00:00+01:00',
    events: [{ at: '2027-03-11T10:30:00+01:00', status: 'pending_vendor' },
      { at: '2027-03-15T10:00:00+01:00', status: 'open' }] },
  { x: 'M7', priority: 'P3', type: 'service_request', channel: 'portal', category: 'accounts', tier: 2,
    created_at: '2027-03-15T13:00:00+01:00', first_response_at: '2027-03-15T14:00:00+01:00',
    resolved_at: '2027-03-16T10:00:00+01:00',
    csat: { rating: 1, comment: 'Late answer', at: '2027-03-31T22:30:00Z' } },
  { x: 'M8', priority: 'P1', type: 'incident', channel: 'phone',
    created_at: '2027-03-17T16:00:00+01:00', first_response_at: '2027-03-18T08:45:00+01:00',
    resolved_at: '2027-03-18T10:00:00+01:00',
    events: [{ at: '2027-03-18T09:00:00+01:00', priority: 'P3' }] },
  { x: 'M9', priority: 'P4', type: 'service_request', channel: 'portal', category: 'accounts',
    created_at: '2027-03-22T08:30:00+01:00', first_response_at: '2027-03-22T08:55:00+01:00',
    resolved_at: '2027-03-22T10:30:00+01:00', closed_at: '2027-03-24T10:30:00+01:00',
    csat: { rating: 5, comment: 'Thanks, quick', at: '2027-03-22T11:00:00+01:00' } },
  { x: 'M14', priority: 'P1', type: 'change', channel: 'api', category: 'server',
    created_at: '2027-03-23T08:00:00+01:00', first_response_at: '2027-03-23T08:40:00+01:00',
    resolved_at: '2027-03-23T12:00:00+01:00',
    events: [{ at: '2027-03-23T10:00:00+01:00', tier: 3 }, { at: '2027-03-23T12:00:00+01:00', tier: 1 }] },
  { x: 'M1', priority: 'P2', type: 'incident', channel: 'email', category: 'network',
    created_at: '2027-03-25T15:30:00+01:00', first_response_at: '2027-03-25T16:00:00+01:00',
    resolved_at: '2027-03-30T09:00:00+02:00',
    csat: { rating: 4, comment: 'Fixed after Easter', at: '2027-03-30T10:00:00+02:00' } },
  { x: 'M17', priority: 'P4', type: 'change', channel: 'monitoring', category: 'backup',
    created_at: '2027-03-28T22:30:00Z', resolved_at: '2027-03-29T08:10:00+02:00' },
  { x: 'M10', priority: 'P2', type: 'incident', channel: 'api', category: 'network',
    created_at: '2027-03-30T16:00:00+02:00', status: 'new' },
  { x: 'M11', priority: 'P3', type: 'problem', channel: 'email', category: 'backup',
    created_at: '2027-03-31T09:00:00+02:00', first_response_at: '2027-03-31T09:30:00+02:00',
    events: [{ at: '2027-03-31T10:00:00+02:00', status: 'pending_customer' }] },
  { x: 'M16', priority: 'P4', type: 'incident', channel: 'email', category: 'Email',
    created_at: '2027-03-31T14:00:00+02:00', first_response_at: '2027-03-31T14:25:00+02:00',
    resolved_at: '2027-04-01T10:00:00+02:00' },
  { x: 'M13', priority: 'P3', type: 'incident', channel: 'api',
    created_at: '2027-03-31T22:30:00Z' },
];

const clock = async (body) => assertStatus(await c.post('/api/v1/test/clock', body, { token: T.admin }), 200);
const get = (p, who = 'admin') => c.get(p, { token: T[who] });
const review = async (q, who = 'admin') => assertStatus(await get(`/api/v1/reports/sla-review?${q}`, who), 200);
const reviewCache = {};
/* March's review of the client, read once. */
const march = async () => (reviewCache.m ??= await review(`client_id=${client.id}&${MARCH}`));

before(async () => {
  srv = await startServer({ testClock: true });
  c = srv.client;
  for (const k of ['admin', 'acmeAdmin', 'borealisIT'])
    T[k] = await c.token(await c.session(DEMO[k], srv.password));
  // After the data, so that the import takes every instant.
  await clock({ now: NOW });
  client = assertStatus(await c.post('/api/v1/clients', { name: uniq('Imported GmbH'), timezone: 'Europe/Berlin' }, { token: T.admin }), 201);
  const weekdays = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri'].map((d) => [d, [['08:00', '17:00']]]));
  const cal = assertStatus(await c.post('/api/v1/calendars', {
    name: uniq('Berlin office'), timezone: 'Europe/Berlin', hours: weekdays,
    holidays: [{ date: '2027-03-26', name: 'Good Friday' }],
  }, { token: T.admin }), 201);
  const policy = assertStatus(await c.post('/api/v1/sla-policies', {
    name: uniq('Imported review'), calendar_id: cal.id,
    targets: { P1: { response: 1800, resolution: 14400 }, P2: { response: 3600, resolution: 28800 },
      P3: { response: 7200, resolution: 57600 }, P4: { response: 14400, resolution: 115200 } },
    pause_statuses: ['pending_customer', 'pending_vendor'],
  }, { token: T.admin }), 201);
  assertStatus(await c.post('/api/v1/contracts', { client_id: client.id, sla_policy_id: policy.id, model: 'flat_fee', starts_on: '2027-01-01' }, { token: T.admin }), 201);

  // What other tenants see before the import (nothing of it may show later).
  acmeBefore = await review(MARCH, 'acmeAdmin');
  borealisBefore = await review(MARCH, 'borealisIT');
  allBefore = await review(MARCH);

  const body = DATA.map(({ x, ...row }) =>
    JSON.stringify({ client_id: client.id, external_id: x, subject: `${x}: imported ticket`, ...row })).join('\n') + '\n';
  imported = assertStatus(await c.post('/api/v1/import/tickets', body, { token: T.admin, headers: { 'Content-Type': JSONL } }), 201);
  for (let cursor = ''; ;) {
    const r = assertStatus(await get(`/api/v1/tickets?client_id=${client.id}&limit=100${cursor}`), 200);
    for (const t of r.items)
      tk[t.subject.split(':')[0]] = { id: t.id, number: t.number };
    if (!r.next_cursor)
      break;
    cursor = `&cursor=${r.next_cursor}`;
  }
});
after(() => srv?.stop());

/* A breached_tickets row. */
const breach = (x, priority, response, resolution, held_by_tier, vendor, paused_seconds) =>
  ({ ticket_id: tk[x].id, number: tk[x].number, priority, response, resolution, held_by_tier, vendor, paused_seconds });
const clk = (met, breached, pending, attainment) => ({ met, breached, pending, attainment });
const times = (count, median_seconds, p90_seconds, mean_seconds) => ({ count, median_seconds, p90_seconds, mean_seconds });
const zeroHours = () => {
  const z = { billable_minutes: 0, non_billable_minutes: 0 };
  return { billable_minutes: 0, non_billable_minutes: 0, by_tier: { tier1: z, tier2: z, tier3: z, other: z } };
};
const noMonitoring = {
  alerts: { fired: 0, acknowledged: 0, resolved: 0, mtta_seconds: null, mttr_seconds: null, by_check: [] },
  devices: { count: 0, uptime: null, items: [] },
};

describe('the SLA review of an imported history (Europe/Berlin, March 2027)', () => {
  test('the import takes the whole file, numbered in its order', () => {
    assert.equal(imported.imported, DATA.length);
    assert.deepEqual(Object.keys(tk).sort(), DATA.map((r) => r.x).sort());
    const numbers = DATA.map((r) => Number(tk[r.x].number.slice(2)));
    assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i));
    assert.equal(tk[DATA[0].x].number, imported.first_number);
    assert.equal(tk[DATA.at(-1).x].number, imported.last_number);
  });

  test('the document: the client, its zone and both periods\' days', async () => {
    const r = await march();
    assert.deepEqual([r.client_id, r.client_name, r.timezone], [client.id, client.name, 'Europe/Berlin']);
    assert.deepEqual([r.period.from, r.period.to, r.previous.from, r.previous.to],
      ['2027-03-01', '2027-04-01', '2027-01-29', '2027-03-01']);
  });

  test('March: volume', async () => {
    const { volume } = (await march()).period;
    assert.deepEqual(volume, {
      opened: 16, resolved: 15, closed: 2, reopened: 2, backlog_start: 3, backlog_end: 4,
      by_priority: { P1: 3, P2: 5, P3: 4, P4: 4 },
      by_type: { incident: 9, service_request: 3, problem: 2, change: 2 },
      by_channel: { portal: 4, api: 3, email: 4, phone: 3, monitoring: 2 },
      by_category: { accounts: 3, network: 3, server: 3, backup: 2, printing: 2, '': 1, Email: 1, email: 1 },
    });
    // Largest first, equal counts by name in byte order.
    assert.deepEqual(Object.keys(volume.by_category),
      ['accounts', 'network', 'server', 'backup', 'printing', '', 'Email', 'email']);
  });

  test('March: SLA attainment per priority and over all', async () => {
    assert.deepEqual((await march()).period.sla, {
      P1: { response: clk(1, 2, 0, 0.3333), resolution: clk(2, 1, 0, 0.6667) },
      P2: { response: clk(3, 2, 0, 0.6), resolution: clk(3, 2, 0, 0.6) },
      P3: { response: clk(3, 1, 0, 0.75), resolution: clk(3, 0, 1, 1) },
      P4: { response: clk(4, 0, 0, 1), resolution: clk(4, 0, 0, 1) },
      all: { response: clk(11, 5, 0, 0.6875), resolution: clk(12, 3, 1, 0.8) },
    });
  });

  test('March: the breached tickets with their causes (tier, vendor, paused time)', async () => {
    assert.deepEqual((await march()).period.breached_tickets, [
      breach('M15', 'P1', true, false, 1, false, 0),
      breach('M5', 'P1', false, true, 2, false, 54000),
      breach('M6', 'P2', true, false, 1, true, 343800),
      breach('M8', 'P3', true, false, 1, false, 54000),
      breach('M14', 'P1', true, false, 1, false, 0),
      breach('M1', 'P2', false, true, 1, false, 363600),
      breach('M10', 'P2', true, true, 1, false, 0),
    ]);
  });

  test('March: business-time median (lower), p90 (nearest rank) and mean', async () => {
    assert.deepEqual((await march()).period.business_time, {
      response: times(14, 1500, 4500, 2292),
      resolution: times(14, 10800, 39600, 15471),
    });
  });

  test('March: FCR and escalation', async () => {
    const p = (await march()).period;
    assert.deepEqual(p.fcr, { decided: 15, first_contact: 9, rate: 0.6, target: 0.7 });
    assert.deepEqual(p.escalation, {
      tier2: 2, tier3: 2, vendor: 1, rate_tier2: 0.125, rate_tier3: 0.125, rate_vendor: 0.0625,
      tier_changes: 5, tier_changes_mean: 0.3125,
      // imported tickets have no assignee (the import does not bring one)
      reassignments: 0, reassigned: 0, rate_reassigned: 0, reassignments_mean: 0,
    });
  });

  test('March: CSAT (in the client\'s days), hours and monitoring', async () => {
    const p = (await march()).period;
    assert.deepEqual(p.csat, {
      responses: 6, average: 3.83, distribution: { 1: 0, 2: 1, 3: 1, 4: 2, 5: 2 },
      comments: [
        { ticket_id: tk.M4.id, number: tk.M4.number, rating: 2, comment: 'Came back after the weekend <again> & "again"', at: '2027-03-08T12:00:00Z' },
        { ticket_id: tk.M9.id, number: tk.M9.number, rating: 5, comment: 'Thanks, quick', at: '2027-03-22T10:00:00Z' },
        { ticket_id: tk.M1.id, number: tk.M1.number, rating: 4, comment: 'Fixed after Easter', at: '2027-03-30T08:00:00Z' },
      ],
    });
    assert.deepEqual(p.hours, zeroHours());
    assert.deepEqual(p.monitoring, noMonitoring);
  });

  test('March: the weeks (7 client days from March 1; the last one 3 days)', async () => {
    const week = (from, opened, resolved, fcr_decided, fcr_first_contact, fcr_rate) =>
      ({ from, opened, resolved, fcr_decided, fcr_first_contact, fcr_rate });
    assert.deepEqual((await march()).period.weekly, [
      week('2027-03-01', 5, 5, 5, 4, 0.8),
      week('2027-03-08', 2, 3, 3, 1, 0.3333),
      week('2027-03-15', 2, 3, 3, 1, 0.3333),
      week('2027-03-22', 3, 2, 2, 1, 0.5),
      week('2027-03-29', 4, 2, 2, 2, 1),
    ]);
  });

  test('the previous period (2027-01-29 to 2027-03-01): every figure', async () => {
    const p = (await march()).previous;
    assert.deepEqual(p.volume, {
      opened: 6, resolved: 4, closed: 1, reopened: 0, backlog_start: 1, backlog_end: 3,
      by_priority: { P1: 0, P2: 2, P3: 2, P4: 2 },
      by_type: { incident: 3, service_request: 1, problem: 1, change: 1 },
      by_channel: { portal: 1, api: 1, email: 2, phone: 1, monitoring: 1 },
      by_category: { network: 2, '': 1, accounts: 1, backup: 1, printing: 1 },
    });
    assert.deepEqual(Object.keys(p.volume.by_category), ['network', '', 'accounts', 'backup', 'printing']);
    assert.deepEqual(p.sla, {
      P1: { response: clk(0, 0, 0, null), resolution: clk(0, 0, 0, null) },
      P2: { response: clk(2, 0, 0, 1), resolution: clk(1, 1, 0, 0.5) },
      P3: { response: clk(2, 0, 0, 1), resolution: clk(2, 0, 0, 1) },
      P4: { response: clk(2, 0, 0, 1), resolution: clk(1, 0, 1, 1) },
      all: { response: clk(6, 0, 0, 1), resolution: clk(4, 1, 1, 0.8) },
    });
    assert.deepEqual(p.breached_tickets, [breach('F3', 'P2', false, true, 2, false, 367200)]);
    assert.deepEqual(p.business_time, {
      response: times(5, 1800, 5400, 2580),
      resolution: times(5, 7200, 50400, 17280),
    });
    assert.deepEqual(p.fcr, { decided: 4, first_contact: 4, rate: 1, target: 0.7 });
    assert.deepEqual(p.escalation, {
      tier2: 1, tier3: 0, vendor: 0, rate_tier2: 0.1667, rate_tier3: 0, rate_vendor: 0,
      tier_changes: 1, tier_changes_mean: 0.1667,
      reassignments: 0, reassigned: 0, rate_reassigned: 0, reassignments_mean: 0,
    });
    assert.deepEqual(p.csat, {
      responses: 3, average: 3.33, distribution: { 1: 1, 2: 0, 3: 0, 4: 1, 5: 1 },
      comments: [{ ticket_id: tk.F2.id, number: tk.F2.number, rating: 1, comment: 'Too slow', at: '2027-02-15T12:00:00Z' }],
    });
    assert.deepEqual(p.hours, zeroHours());
    assert.deepEqual(p.monitoring, noMonitoring);
    assert.equal(p.weekly, undefined, 'the weeks are the period\'s only');
  });

  test('the CSV: one well-formed row per ticket read, with the figures\' columns and in-period flags', async () => {
    const res = await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}&format=csv`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.ok(res.text.endsWith('\r\n'));
    const lines = res.text.slice(0, -2).split('\r\n');
    const head = lines[0].split(',');
    assert.deepEqual(head, ['number', 'ticket_id', 'client_id', 'created_at', 'first_response_at', 'resolved_at',
      'closed_at', 'priority', 'type', 'channel', 'category', 'has_sla_policy', 'response_breached',
      'resolution_breached', 'response_business_seconds', 'resolution_business_seconds',
      'tier1_business_seconds', 'tier2_business_seconds', 'tier3_business_seconds', 'vendor', 'fcr', 'reopens',
      'tier_changes', 'reassignments', 'opened_in_period', 'resolved_in_period', 'closed_in_period', 'backlog_at_start',
      'backlog_at_end']);
    // No field here needs quoting (no comma, quote or line break in any).
    const rows = lines.slice(1).map((l) => {
      const f = l.split(',');
      assert.equal(f.length, head.length, `a row of ${head.length} fields: ${l}`);
      return Object.fromEntries(f.map((v, i) => [head[i], v]));
    });
    // Read for March: created before its end and not resolved before its
    // start (or closed since): J0, F6, F1, F2 (done in January/February) and
    // M13 (April in Berlin) are not.
    // [x, response s, resolution s, t1, t2, t3, response breached,
    //  resolution breached, vendor, fcr, reopens, tier changes,
    //  opened, resolved, closed, backlog start, backlog end]
    const want = [
      ['J1', 1800, 817200, 817200, 0, 0, 0, 1, 0, '1', 0, 0, 0, 1, 0, 1, 0],
      ['F4', 3600, 32400, 32400, 0, 0, 0, 0, 0, '', 0, 0, 0, 0, 0, 1, 1],
      ['F5', 3600, 3600, 3600, 0, 0, 0, 0, 0, '1', 0, 0, 0, 0, 1, 0, 0],
      ['F3', 1200, 50400, 3600, 46800, 0, 0, 1, 0, '0', 0, 1, 0, 1, 0, 1, 0],
      ['M12', 1500, 7200, 7200, 0, 0, 0, 0, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M2', 1500, 10800, 10800, 0, 0, 0, 0, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M3', 600, 14400, 14400, 0, 0, 0, 0, 0, '1', 1, 0, 1, 1, 0, 0, 0],
      ['M4', 1200, 10800, 10800, 0, 0, 0, 0, 0, '0', 1, 0, 1, 1, 0, 0, 0],
      ['M15', 2700, 10800, 10800, 0, 0, 1, 0, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M5', 1200, 39600, 3600, 25200, 10800, 0, 1, 0, '0', 0, 3, 1, 1, 0, 0, 0],
      ['M6', 4500, 9000, 9000, 0, 0, 1, 0, 1, '0', 0, 0, 1, 1, 0, 0, 0],
      ['M7', 3600, 21600, 0, 21600, 0, 0, 0, 0, '0', 0, 0, 1, 1, 0, 0, 0],
      ['M8', 6300, 10800, 10800, 0, 0, 1, 0, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M9', 1500, 7200, 7200, 0, 0, 0, 0, 0, '1', 0, 0, 1, 1, 1, 0, 0],
      ['M14', 2400, 14400, 7200, 0, 7200, 1, 0, 0, '0', 0, 2, 1, 1, 0, 0, 0],
      ['M1', 1800, 41400, 41400, 0, 0, 0, 1, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M17', 600, 600, 600, 0, 0, 0, 0, 0, '1', 0, 0, 1, 1, 0, 0, 0],
      ['M10', 381600, 381600, 381600, 0, 0, 1, 1, 0, '', 0, 0, 1, 0, 0, 0, 1],
      ['M11', 1800, 3600, 3600, 0, 0, 0, 0, 0, '', 0, 0, 1, 0, 0, 0, 1],
      ['M16', 1500, 18000, 18000, 0, 0, 0, 0, 0, '1', 0, 0, 1, 0, 0, 0, 1],
    ];
    assert.deepEqual(rows.map((r) => r.number), want.map(([x]) => tk[x].number), 'the rows read, by ticket id');
    const byX = Object.fromEntries(DATA.map((d) => [d.x, d]));
    const inst = (s) => (s ? Z(s) : '');
    for (const [x, rs, res2, t1, t2, t3, rb, sb, vendor, fcr, reopens, tc, o, r, cl, bs, be] of want) {
      const row = rows.find((y) => y.number === tk[x].number);
      const d = byX[x];
      const priority = { M15: 'P1', M8: 'P3' }[x] ?? d.priority;   // as now set
      assert.deepEqual(row, {
        number: tk[x].number, ticket_id: String(tk[x].id), client_id: String(client.id),
        created_at: inst(d.created_at), first_response_at: inst(d.first_response_at),
        resolved_at: inst(d.resolved_at), closed_at: inst(d.closed_at),
        priority, type: d.type, channel: d.channel, category: d.category ?? '', has_sla_policy: '1',
        response_breached: String(rb), resolution_breached: String(sb),
        response_business_seconds: String(rs), resolution_business_seconds: String(res2),
        tier1_business_seconds: String(t1), tier2_business_seconds: String(t2), tier3_business_seconds: String(t3),
        vendor: String(vendor), fcr, reopens: String(reopens), tier_changes: String(tc),
        reassignments: o ? '0' : '',
        opened_in_period: String(o), resolved_in_period: String(r), closed_in_period: String(cl),
        backlog_at_start: String(bs), backlog_at_end: String(be),
      }, `the row of ${x}`);
    }
  });

  test('the HTML pack: well-formed, the headline numbers, the comment escaped', async () => {
    const res = await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}&format=html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assert.match(res.text, /^<!DOCTYPE html>\n/);
    assertWellFormedXml(res.text.replace(/^<!DOCTYPE html>\n/, ''));
    assert.match(res.text, /1 Mar 2027 to 31 Mar 2027/);
    const kpi = (label) => {
      const m = res.text.match(new RegExp(`<span>${label}</span><b>([^<]*)</b><span>previous ([^ <]*)`));
      assert.ok(m, `the KPI ${label}`);
      return [m[1], m[2]];
    };
    const pct = (s) => `${s}&#160;%`;
    assert.deepEqual(kpi('Tickets opened'), ['16', '6']);
    assert.deepEqual(kpi('Tickets resolved'), ['15', '4']);
    assert.deepEqual(kpi('Backlog at end'), ['4', '3']);
    assert.deepEqual(kpi('Resolution SLA met'), [pct('80.0'), pct('80.0')]);
    assert.deepEqual(kpi('First-contact resolution \\(target 70 %\\)'), [pct('60.0'), pct('100.0')]);
    assert.deepEqual(kpi('Satisfaction average \\(1-5\\)'), ['3.83', '3.33']);
    // One bar per week with tickets opened, titled with its count.
    for (const [day, n] of [['03-01', 5], ['03-08', 2], ['03-15', 2], ['03-22', 3], ['03-29', 4]])
      assert.match(res.text, new RegExp(`<title>${day}: ${n}</title>`));
    assert.ok(!res.text.includes('<again>'));
    assert.ok(res.text.includes('Came back after the weekend &lt;again&gt; &amp; '));
  });

  test('itsup report sla-review prints the same JSON and CSV as the API', async () => {
    const api = await march();
    const j = await cli(['report', 'sla-review', '--db', srv.db, '--client-id', String(client.id),
      '--from', '2027-03-01', '--to', '2027-04-01']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), api);
    const csv = await cli(['report', 'sla-review', '--db', srv.db, '--client-id', String(client.id),
      '--from', '2027-03-01', '--to', '2027-04-01', '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, (await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}&format=csv`)).text);
  });

  test('tenant isolation: another client\'s people get 404 and never see these tickets', async () => {
    for (const who of ['acmeAdmin', 'borealisIT']) {
      assertProblem(await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}`, who), 404);
      assertProblem(await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}&format=csv`, who), 404);
      assertProblem(await get(`/api/v1/reports/sla-review?client_id=${client.id}&${MARCH}&format=html`, who), 404);
    }
    // Their own reviews are what they were before the import, to the byte.
    assert.deepEqual(await review(MARCH, 'acmeAdmin'), acmeBefore);
    assert.deepEqual(await review(MARCH, 'borealisIT'), borealisBefore);
    assert.equal(acmeBefore.client_id, ACME);
    assert.equal(borealisBefore.client_id, BOREALIS);
    const csv = await get(`/api/v1/reports/sla-review?${MARCH}&format=csv`, 'acmeAdmin');
    assert.equal(csv.status, 200);
    const ours = new Set(Object.values(tk).map((t) => t.number));
    for (const line of csv.text.trimEnd().split('\r\n').slice(1)) {
      const [number, , clientId] = line.split(',');
      assert.equal(clientId, String(ACME));
      assert.ok(!ours.has(number));
    }
  });

  test('every client (provider staff): UTC days, so the boundary tickets move', async () => {
    // All clients are counted in UTC days: M12 (2027-02-28T23:30Z) is
    // February's there and M13 (2027-03-31T22:30Z) March's, M16 (resolved
    // 2027-04-01T08:00Z) still after March; M7's CSAT answer
    // (2027-03-31T22:30Z) is March's.
    const all = await review(MARCH);
    assert.equal(all.timezone, 'UTC');
    const d = (k) => all.period.volume[k] - allBefore.period.volume[k];
    assert.deepEqual(['opened', 'resolved', 'closed', 'reopened', 'backlog_start', 'backlog_end'].map(d),
      [16, 15, 2, 2, 4, 5]);
    assert.deepEqual(['P1', 'P2', 'P3', 'P4'].map((k) => all.period.volume.by_priority[k] - allBefore.period.volume.by_priority[k]),
      [3, 5, 5, 3]);
    assert.equal(all.period.csat.responses - allBefore.period.csat.responses, 7);
    assert.equal(all.period.fcr.decided - allBefore.period.fcr.decided, 15);
  });
});
