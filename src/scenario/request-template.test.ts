import { describe, expect, it } from 'vitest';
import { renderRequest, requestTemplateSchema } from './request-template.js';

describe('renderRequest', () => {
  it('turns a whole placeholder into a number and splices the others into text', () => {
    const t = requestTemplateSchema.parse({
      method: 'POST',
      path: '/api/jobs/{{n}}/complete?trial={{trial}}',
      headers: { 'X-Request': 'req-{{i}}' },
      json: { shipment_id: '{{n}}', label: 'shipment {{i}}', nested: ['{{trial}}'] },
    });
    const r = renderRequest(t, { i: 4, n: 5, trial: 2 });
    expect(r.path).toBe('/api/jobs/5/complete?trial=2');
    expect(r.headers).toEqual({ 'x-request': 'req-4', 'content-type': 'application/json' });
    expect(JSON.parse(r.body!.toString())).toEqual({ shipment_id: 5, label: 'shipment 4', nested: [2] });
  });

  it('leaves a bodiless request without a body', () => {
    const r = renderRequest(requestTemplateSchema.parse({ path: '/health' }), { i: 0, n: 1, trial: 1 });
    expect(r.method).toBe('GET');
    expect(r.body).toBeUndefined();
  });
});
