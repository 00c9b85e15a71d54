#!/usr/bin/env python3
"""gen.py N CLIENT_IDS OUT: N tickets of history as JSON lines for `itsup import
tickets` (docs/IMPORT.md), spread over the three years before END (UTC) and over
the given clients (comma-separated ids), reproducible (seeded). The mix is what
a service desk's history holds, so the review has every figure to compute:

  priority   P1 5 %, P2 20 %, P3 50 %, P4 25 %
  type       incident 60 %, service request 30 %, problem 5 %, change 5 %
  channel    email 45 %, portal 25 %, phone 20 %, api 5 %, monitoring 5 %
  response   exponential, mean 40 min; resolution exponential, mean by
             priority (3 h, 12 h, 2 d, 4 d); closed 7 days after (if before END)
  history    20 % wait on the customer for a while (a pause), 15 % escalate
             to tier 2 (a third of them on to tier 3), 2 % go to a vendor,
             3 % are resolved, reopened and resolved again; 1 % of the last
             month's tickets are still open
  CSAT       12 % of resolved tickets, ratings mostly 4-5, some with a comment
"""
import json, random, sys
from datetime import datetime, timezone

n, clients, out = int(sys.argv[1]), [int(x) for x in sys.argv[2].split(',')], sys.argv[3]
END = int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())
START = END - 3 * 365 * 86400
rnd = random.Random(20261124)

def iso(t):
    return datetime.fromtimestamp(int(t), timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')

def pick(table):
    x = rnd.random()
    for v, p in table:
        x -= p
        if x < 0:
            return v
    return table[-1][0]

PRIO = [('P1', .05), ('P2', .20), ('P3', .50), ('P4', .25)]
TYPE = [('incident', .60), ('service_request', .30), ('problem', .05), ('change', .05)]
CHAN = [('email', .45), ('portal', .25), ('phone', .20), ('api', .05), ('monitoring', .05)]
MEAN = {'P1': 3 * 3600, 'P2': 12 * 3600, 'P3': 2 * 86400, 'P4': 4 * 86400}
CATS = ['network', 'printing', 'accounts', 'email', 'hardware', 'software', 'backup', 'security',
        'telephony', 'onboarding', 'vpn', 'storage']
COMMENTS = ['Quick and friendly.', 'Took a while, but fixed.', 'Thanks!', 'Had to chase twice.']

with open(out, 'w') as f:
    step = (END - START - 86400) / n
    for i in range(n):
        created = START + i * step + rnd.random() * step
        prio = pick(PRIO)
        row = {'client_id': clients[i % len(clients)], 'external_id': 'OLD-%07d' % i,
               'subject': 'Imported ticket %d' % i, 'type': pick(TYPE), 'category': rnd.choice(CATS),
               'priority': prio, 'channel': pick(CHAN), 'created_at': iso(created)}
        t = created
        resp = t + 60 + rnd.expovariate(1 / 2400)
        events = []
        still_open = created > END - 30 * 86400 and rnd.random() < .01
        if not still_open:
            row['first_response_at'] = iso(resp)
            t = resp
            if rnd.random() < .20:           # waits on the customer
                t += 60 + rnd.expovariate(1 / 3600)
                events.append({'at': iso(t), 'status': 'pending_customer'})
                t += 60 + rnd.expovariate(1 / 86400)
                events.append({'at': iso(t), 'status': 'open'})
            if rnd.random() < .15:           # escalates
                t += 60 + rnd.expovariate(1 / 7200)
                events.append({'at': iso(t), 'tier': 2})
                if rnd.random() < 1 / 3:
                    t += 60 + rnd.expovariate(1 / 14400)
                    events.append({'at': iso(t), 'tier': 3})
            if rnd.random() < .02:
                row['vendor'] = 'Contoso Hardware'
            t += 60 + rnd.expovariate(1 / MEAN[prio])
            if rnd.random() < .03:           # resolved, reopened, resolved again
                events.append({'at': iso(t), 'status': 'resolved'})
                t += 3600 + rnd.expovariate(1 / 86400)
                events.append({'at': iso(t), 'reopened': True})
                t += 60 + rnd.expovariate(1 / MEAN[prio])
            if t < END:
                row['resolved_at'] = iso(t)
                if t + 7 * 86400 < END:
                    row['closed_at'] = iso(t + 7 * 86400)
                if rnd.random() < .12:
                    c = {'rating': pick([(5, .55), (4, .25), (3, .1), (2, .06), (1, .04)]),
                         'at': iso(min(t + 3600, END - 1))}
                    if rnd.random() < .3:
                        c['comment'] = rnd.choice(COMMENTS)
                    row['csat'] = c
        if events:
            row['events'] = events
        f.write(json.dumps(row, separators=(',', ':')) + '\n')
