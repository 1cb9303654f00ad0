/** The server API's usage: over a range, by day, and a month's statement as CSV; priced with the tenant's rate card. */
import { Type } from '@sinclair/typebox';
import { CodedError } from '../common/errors.js';
import { Cost, Usage } from '../contracts/records.js';
import { costOf, quantities } from '../platform/cost.js';
import { sumUsage, type UsageRow } from '../platform/store.js';
import type { Tenant } from '../tenants/tenants.js';
import { parseTime, route, Time, type ApiDeps, type Route } from './route.js';

const DAY_MS = 86_400_000;
/** Days one GET /v1/usage/daily may cover: a quarter. */
const MAX_DAYS = 93;
const Priced = Type.Union([Cost, Type.Null()], { description: 'Priced with your rate card (tenants[].rates); null without one.' });

/** Every row of the tenant's that overlaps [from, to): those stored, and this node's live participants so far. */
async function rowsOf({ store, usage }: ApiDeps, tenant: string, from: number, to: number): Promise<UsageRow[]> {
  // Stays that ended (those ending now included), and the ones going on here now.
  await usage.settled();
  return [...(await store.usage(tenant, from, to)), ...(await usage.liveRows(tenant))];
}

function range(query: { from: string; to?: string }) {
  const from = parseTime(query.from, 'from')!;
  const to = parseTime(query.to, 'to') ?? Date.now();
  if (to <= from) throw new CodedError('BAD_REQUEST', 'to must be after from');
  return { from, to };
}

/** The usage of [from, to) in total and by room, each priced. */
function summary(rows: UsageRow[], tenant: Tenant, from: number, to: number) {
  const total = sumUsage(rows, from, to);
  const rooms = [...new Set(rows.map((r) => r.room))].sort().map((room) => {
    const usage = sumUsage(rows.filter((r) => r.room === room), from, to);
    return { room, usage, cost: costOf(usage, tenant.rates) };
  });
  return { total, cost: costOf(total, tenant.rates), rooms };
}

const csvCell = (v: string | number) => (typeof v === 'number' ? String(v) : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The statement: one line per room and item, then the totals (room "TOTAL"): the figures GET /v1/usage gives for the month. */
function statementCsv(month: string, s: ReturnType<typeof summary>, tenant: Tenant) {
  const lines = [['month', 'room', 'item', 'unit', 'quantity', 'unit_price', 'amount', 'currency']];
  const add = (room: string, usage: Usage) => {
    const cost = costOf(usage, tenant.rates);
    for (const q of quantities(usage)) {
      const line = cost?.lines.find((c) => c.item === q.item);
      lines.push([month, room, q.item, q.unit, String(q.quantity), line ? String(line.unitPrice) : '', line ? String(line.amount) : '', cost?.currency ?? '']);
    }
  };
  for (const r of s.rooms) add(r.room, r.usage);
  add('TOTAL', s.total);
  return lines.map((l) => l.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export const usageRoutes: Route[] = [
  route({
    method: 'GET', url: '/v1/usage', summary: 'Your usage over a time range, in total and per room: participant time by role, track time by kind, recorded time, bytes in and out, speech, translation and assistant; priced with your rate card.',
    querystring: Type.Object({ from: Time, to: Type.Optional(Time) }),
    responses: { 200: Type.Object({ from: Time, to: Time, total: Usage, cost: Priced, rooms: Type.Array(Type.Object({ room: Type.String(), usage: Usage, cost: Priced })) }) },
    async handler(deps, req) {
      const { from, to } = range(req.query);
      const rows = await rowsOf(deps, req.tenant.id, from, to);
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...summary(rows, req.tenant, from, to) };
    },
  }),
  route({
    method: 'GET', url: '/v1/usage/daily', summary: 'Your usage by UTC day (at most 93 days), each priced: what the console charts.',
    querystring: Type.Object({ from: Time, to: Type.Optional(Time) }),
    responses: { 200: Type.Object({ days: Type.Array(Type.Object({ date: Type.String({ description: 'YYYY-MM-DD (UTC).' }), usage: Usage, cost: Priced })) }) },
    async handler(deps, req) {
      const { from, to } = range(req.query);
      const first = Math.floor(from / DAY_MS) * DAY_MS;
      if ((to - first) / DAY_MS > MAX_DAYS) throw new CodedError('BAD_REQUEST', `at most ${MAX_DAYS} days at once`);
      const rows = await rowsOf(deps, req.tenant.id, from, to);
      const days = [];
      for (let day = first; day < to; day += DAY_MS) {
        const usage = sumUsage(rows, Math.max(day, from), Math.min(day + DAY_MS, to));
        days.push({ date: new Date(day).toISOString().slice(0, 10), usage, cost: costOf(usage, req.tenant.rates) });
      }
      return { days };
    },
  }),
  route({
    method: 'GET', url: '/v1/usage/statement', summary: 'A month\'s statement as CSV (text/csv): per room and item the quantity, unit price and amount, then the totals; the same figures as GET /v1/usage for that month (UTC).',
    querystring: Type.Object({ month: Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$', description: 'YYYY-MM.' }) }),
    responses: { 200: Type.String({ description: 'CSV: month,room,item,unit,quantity,unit_price,amount,currency.' }) },
    async handler(deps, req, reply) {
      const [y, m] = req.query.month.split('-').map(Number);
      const from = Date.UTC(y, m - 1, 1);
      const to = Math.min(Date.UTC(y, m, 1), Math.max(from + 1, Date.now()));
      const rows = await rowsOf(deps, req.tenant.id, from, to);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="usage-${req.tenant.id}-${req.query.month}.csv"`)
        .send(statementCsv(req.query.month, summary(rows, req.tenant, from, to), req.tenant));
    },
  }),
];
