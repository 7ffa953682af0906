import type { Kpis } from './kpis.js';

/** What the efficiency indicators are computed from. */
export interface EfficiencyInputs {
  readonly kpis: Kpis;
  /** Venues of the subtree, and those that hosted at least one delivery in the period. */
  readonly venues: { readonly total: number; readonly used: number };
  /** Ordering units of the subtree, and those with at least one delivery in the period. */
  readonly units: { readonly total: number; readonly active: number };
  /** Suppliers with a listed product, and those that delivered in the subtree in the period. */
  readonly suppliers: { readonly total: number; readonly active: number };
}

/** An efficiency indicator (效能指标): a formula over the inputs, a target and a weight in the composite score. */
export interface IndicatorDefinition {
  readonly key: string;
  readonly name: string;
  readonly nameEn: string;
  /** The formula in words, shown in the report. */
  readonly formula: string;
  /** The value that scores 1 (values are scored min(value / target, 1)). */
  readonly target: number;
  /** Weight in the composite score; 0 shows the indicator without scoring it. */
  readonly weight: number;
  /** The value, or null when its inputs are absent. */
  compute(inputs: EfficiencyInputs): number | null;
  /** Shown when `compute` gives null. */
  readonly absentNote?: string | undefined;
}

/** An indicator's value and score. */
export interface IndicatorValue {
  key: string;
  name: string;
  nameEn: string;
  formula: string;
  value: number | null;
  target: number;
  weight: number;
  /** min(value / target, 1), null when absent. */
  score: number | null;
  note: string | null;
}

/** The evaluation: every indicator and the weighted composite score (0–100). */
export interface Efficiency {
  indicators: IndicatorValue[];
  /** 100 × Σ wᵢ scoreᵢ / Σ wᵢ over the indicators with a value; null when none has. */
  composite: number | null;
  /** Keys of weighted indicators left out of the composite for lack of data. */
  leftOut: string[];
}

const share = (a: number, b: number) => (b === 0 ? null : a / b);

/**
 * Changning's eight efficiency indicators (长宁区效能评估), over data the kernel holds.
 * Targets are defaults a deployment overrides through `reporting.efficiencyIndicators`.
 */
export const CHANGNING_INDICATORS: readonly IndicatorDefinition[] = [
  {
    key: 'audience-pleasure',
    name: '群众满意度',
    nameEn: 'Audience pleasure',
    formula: 'responses rating ≥ 4 / all responses on the period’s deliveries',
    target: 0.95,
    weight: 0.2,
    compute: ({ kpis }) => kpis.satisfactionRate,
    absentNote: 'no feedback on the period’s deliveries',
  },
  {
    key: 'team-participation',
    name: '团队参与度',
    nameEn: 'Team participation',
    formula: 'ordering units of the subtree with ≥ 1 delivery / ordering units of the subtree',
    target: 0.8,
    weight: 0.1,
    compute: ({ units: u }) => share(u.active, u.total),
    absentNote: 'no ordering units in the subtree',
  },
  {
    key: 'equipment-use',
    name: '设备使用率',
    nameEn: 'Equipment use',
    formula: 'hours of equipment use / hours available — an optional input: the kernel records no equipment, so a region plugin supplies it through `reporting.efficiencyIndicators`',
    target: 0.6,
    weight: 0.1,
    compute: () => null,
    absentNote: 'no equipment-use data: the kernel holds none and no plugin contributed it',
  },
  {
    key: 'audience-count',
    name: '观众人次',
    nameEn: 'Audience count',
    formula: 'participants per 10,000 residents',
    target: 2000,
    weight: 0.15,
    compute: ({ kpis }) => kpis.per10k.participants,
    absentNote: 'the subtree has no population figure',
  },
  {
    key: 'venue-use',
    name: '场馆使用率',
    nameEn: 'Venue use',
    formula: 'venues of the subtree hosting ≥ 1 delivery / venues of the subtree',
    target: 0.9,
    weight: 0.1,
    compute: ({ venues: v }) => share(v.used, v.total),
    absentNote: 'no venues in the subtree',
  },
  {
    key: 'activity-effect',
    name: '活动效果',
    nameEn: 'Activity effect',
    formula: 'actual audience / expected audience of the period’s deliveries',
    target: 1,
    weight: 0.15,
    compute: ({ kpis }) => share(kpis.participants, kpis.expectedAudience),
    absentNote: 'no deliveries in the period',
  },
  {
    key: 'resource-use',
    name: '资源使用率',
    nameEn: 'Resource use',
    formula: 'budget spent across the subtree / budget allocated to its root, for the budget year of the period’s start',
    target: 0.9,
    weight: 0.1,
    compute: ({ kpis }) => kpis.budget?.execution ?? null,
    absentNote: 'no budget allocated to the region for that year',
  },
  {
    key: 'influence',
    name: '社会影响力',
    nameEn: 'Influence',
    formula: 'feedback responses per 100 participants',
    target: 10,
    weight: 0.1,
    compute: ({ kpis }) => (kpis.participants === 0 ? null : (100 * kpis.responses) / kpis.participants),
    absentNote: 'no participants in the period',
  },
];

/** Evaluates the indicators and the composite score. */
export function evaluate(definitions: readonly IndicatorDefinition[], inputs: EfficiencyInputs): Efficiency {
  const indicators = definitions.map((d): IndicatorValue => {
    const value = d.compute(inputs);
    const score = value === null || d.target <= 0 ? null : Math.min(value / d.target, 1);
    return { key: d.key, name: d.name, nameEn: d.nameEn, formula: d.formula, value, target: d.target, weight: d.weight, score, note: value === null ? (d.absentNote ?? 'input absent') : null };
  });
  const scored = indicators.filter((i) => i.weight > 0 && i.score !== null);
  const weight = scored.reduce((s, i) => s + i.weight, 0);
  return {
    indicators,
    composite: weight === 0 ? null : (100 * scored.reduce((s, i) => s + i.weight * i.score!, 0)) / weight,
    leftOut: indicators.filter((i) => i.weight > 0 && i.score === null).map((i) => i.key),
  };
}
