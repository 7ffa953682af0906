import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, generate, greedy, planOf, solve, verify, welfareOf } from '../src/index.js';

const small = fc.record({ seed: fc.integer({ min: 1, max: 10_000 }), demands: fc.integer({ min: 5, max: 30 }), products: fc.integer({ min: 3, max: 10 }) });

describe('solvers (property tests, small instances)', () => {
  it('plans never violate budgets, capacities, serviceability or repeat caps; heuristic ≤ LP bound; MIP ≥ heuristic', async () => {
    await fc.assert(
      fc.asyncProperty(small, async (o) => {
        const instance = generate({ ...o, districts: 2, streetsPerDistrict: 2 });
        const report = await solve(instance, { solver: 'auto', mipTimeLimit: 5, pricedFloors: 2 });
        const check = verify(instance, report.plan, { floors: false });
        expect(check.violations).toEqual([]);
        if (report.bound !== null) expect(report.heuristicWelfare).toBeLessThanOrEqual(report.bound + 1e-6);
        // The MIP meets every floor; a heuristic plan that misses one may be worth more, so compare only when the plan meets them all.
        if (report.mip && report.mip.status === 'Optimal' && report.feasibility.feasible) expect(report.mip.welfare).toBeGreaterThanOrEqual(report.heuristicWelfare - 1e-6);
        // Floors hold whenever the instance was feasible; otherwise the relaxations name them.
        if (report.feasibility.relaxations.length === 0 && report.solver === 'mip') expect(report.floors.every((f) => f.met)).toBe(true);
        for (const f of report.floors) if (!f.met) expect(report.feasibility.feasible).toBe(false);
      }),
      { numRuns: 8 },
    );
  }, 60_000);

  it('reports an infeasible floor by name with its shortfall', async () => {
    const instance = generate({ seed: 7, districts: 2, streetsPerDistrict: 2, demands: 10, products: 4 });
    instance.floors = [{ id: 'impossible', kind: 'region-sessions', regionCode: 'd0', min: 10_000 }];
    const report = await solve(instance, { solver: 'heuristic' });
    expect(report.feasibility.feasible).toBe(false);
    expect(report.feasibility.relaxations.map((r) => r.floorId)).toEqual(['impossible']);
    expect(report.feasibility.relaxations[0]!.shortfall).toBeGreaterThan(0);
  });

  it('verify rejects a plan mutated to break a constraint', () => {
    const instance = generate({ seed: 3, floors: false });
    const model = compile(instance);
    const { x } = greedy(model);
    const plan = planOf(model, x);
    expect(verify(instance, plan).ok).toBe(true);
    const broken = { ...plan, allocations: plan.allocations.map((a, i) => (i === 0 ? { ...a, sessions: a.sessions + 50 } : a)) };
    const result = verify(instance, broken);
    expect(result.ok).toBe(false);
    expect(welfareOf(model, x, 0)).toBeGreaterThan(0);
  });
});
