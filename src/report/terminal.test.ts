import { describe, expect, it } from 'vitest';
import { brokenOffReport, emptyTrialReport, fixtureReport } from './formats-fixture.js';
import { renderSummary, renderTrial } from './terminal.js';

describe('terminal report', () => {
  it('prints a trial line with statuses and latency', () => {
    const line = renderTrial(fixtureReport().trials[0]!, 2).split('\n')[0];
    expect(line).toBe(
      'trial 1/2 PASS  7 requests (barrier)  201×1 409×5 error:ECONNRESET×1  p50 20 ms p99 35 ms  send spread 10 ms',
    );
  });

  it('says "no requests" for a trial that sent none, not p50 0.00 ms', () => {
    const line = renderTrial(emptyTrialReport().trials[0]!, 1).split('\n')[0];
    expect(line).toBe('trial 1/1 UNKNOWN  no requests');
  });

  it('says "no responses" when requests went out and none was answered', () => {
    const r = emptyTrialReport();
    const t = r.trials[0]!;
    t.load.requests = 3;
    t.load.statusCounts = { 'error:ECONNRESET': 3 };
    expect(renderTrial(t, 1).split('\n')[0]).toBe(
      'trial 1/1 UNKNOWN  3 requests (barrier)  error:ECONNRESET×3  no responses',
    );
  });

  it('an interleave trial has no "/of": the trial count is a schedule budget, not a plan', () => {
    const t = emptyTrialReport().trials[0]!;
    t.load.interleave = { schedule: '0.1', source: 'dfs', choicePoints: 1, preemptions: 0, steps: [] };
    expect(renderTrial(t, 500).split('\n')[0]).toBe('trial 1 UNKNOWN  no requests');
  });

  it('names the mutant of a mutant run', () => {
    const r = fixtureReport();
    r.mutant = {
      id: 'drop-row-lock@ab',
      label: 'drop-row-lock@SELECT 1 FOR UPDATE',
      operator: 'drop-row-lock',
      clause: 'FOR UPDATE',
    };
    expect(renderSummary(r, 'r/report.json')).toContain(
      'mutant: drop-row-lock@SELECT 1 FOR UPDATE (FOR UPDATE removed from the candidate)',
    );
  });

  it('prints no reproduction rate for a run that broke off before any trial', () => {
    const s = renderSummary(brokenOffReport(), 'r/report.json');
    expect(s).toContain(
      'fixture [buggy] on local: UNKNOWN  0 trials: 0 passed, 0 failed, 0 unknown  (2.0 s)',
    );
    expect(s).not.toContain('reproduction rate');
    expect(s).toContain('error [TARGET_FAILED]: target exited before it became healthy');
    expect(renderSummary(fixtureReport(), 'r/report.json')).toContain('(reproduction rate 50%, 2.0 s)');
  });
});
