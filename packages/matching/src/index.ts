/** @diandan/matching — fair, explainable, near-optimal allocation of cultural products to demand (精准配送). */
export * from './problem.js';
export { compile, type Model, type FloorRow, type LimitRow } from './model.js';
export { greedy, type GreedyOptions, type GreedyResult } from './greedy.js';
export { solveLp, lpText, presolve, LpSession, type LpOptions, type LpResult } from './lp.js';
export { solve, explain, whyNot, welfareOf, planOf, popularityBaseline, type SolveOptions, type SolveReport, type Explanation, type FloorReport } from './solve.js';
export { verify, evaluate, gini, type Verification, type Violation, type Evaluation } from './verify.js';
export { generate, generateInput, rng, GUANGZHOU_SIZE, LARGE_SIZE, type GeneratorOptions } from './generate.js';
