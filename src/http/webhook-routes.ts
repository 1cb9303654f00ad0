/** The server API's view of a tenant's webhooks: the backlog, recent deliveries, failures, and sending a failure again. */
import { Type } from '@sinclair/typebox';
import { CodedError } from '../common/errors.js';
import { Limit, route, Time, type Route } from './route.js';


export const webhookRoutes: Route[] = [
  route({
    method: 'GET', url: '/v1/webhooks/backlog', summary: 'Your webhook events not delivered yet (at most webhooks.maxPendingPerTenant; past it, new events are listed as failed).',
    responses: { 200: Type.Object({ pending: Type.Integer() }) },
    async handler({ outbox }, req) {
      return { pending: (await outbox.pending())[req.tenant.id] ?? 0 };
    },
  }),
  route({
    method: 'GET', url: '/v1/webhooks/deliveries', summary: 'Your recent webhook deliveries that succeeded (the last 200), newest first.',
    querystring: Type.Object({ limit: Limit }),
    responses: { 200: Type.Object({ deliveries: Type.Array(Type.Object({ eventId: Type.String(), type: Type.String(), room: Type.String(), attempts: Type.Integer({ description: 'Attempts it took.' }), deliveredAt: Time })) }) },
    async handler({ outbox }, req) {
      return { deliveries: await outbox.deliveries(req.tenant.id, req.query.limit ?? 20) };
    },
  }),
  route({
    method: 'GET', url: '/v1/webhooks/failures', summary: 'Webhook deliveries that failed for good (after every retry), newest first.',
    querystring: Type.Object({ limit: Limit }),
    responses: { 200: Type.Object({ failures: Type.Array(Type.Object({ event: Type.Record(Type.String(), Type.Unknown()), attempts: Type.Integer(), lastError: Type.String(), failedAt: Time })) }) },
    async handler({ outbox }, req) {
      return { failures: await outbox.failures(req.tenant.id, req.query.limit ?? 20) };
    },
  }),
  route({
    method: 'POST', url: '/v1/webhooks/failures/:eventId/resend',
    summary: 'Send a failed event again: it leaves the failures and is queued with the same webhook-id (receivers that saw it already can tell), behind its room\'s newer events.',
    params: Type.Object({ eventId: Type.String({ maxLength: 64 }) }),
    responses: { 202: Type.Object({ queued: Type.Literal(true) }) },
    errors: ['NOT_FOUND', 'WEBHOOK_BACKLOG_FULL'],
    async handler({ outbox, config }, req, reply) {
      const resent = await outbox.resend(req.tenant.id, req.params.eventId, config.webhooks.maxPendingPerTenant);
      if (resent === 'missing') throw new CodedError('NOT_FOUND', `no failed delivery of ${req.params.eventId}`);
      if (resent === 'full') throw new CodedError('WEBHOOK_BACKLOG_FULL', `you have ${config.webhooks.maxPendingPerTenant} undelivered events (webhooks.maxPendingPerTenant); the event is listed as failed again`);
      return reply.code(202).send({ queued: true });
    },
  }),
];
