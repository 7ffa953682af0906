/** @diandan/matching — fair, explainable, near-optimal allocation of cultural products to demand (精准配送). */
export * from './problem.js';
export { compile, type Model, type FloorRow, type LimitRow } from './model.js';
export { greedy, type GreedyOptions, type GreedyResult } from './greedy.js';
export { solveLp, lpText, presolve, LpSession, type LpOptions, type LpResult } from './lp.js';
export { solve, explain, whyNot, welfareOf, planOf, popularityBaseline, type SolveOptions, type SolveReport, type Explanation, type FloorReport } from './solve.js';
export { verify, evaluate, gini, type Verification, type Violation, type Evaluation } from './verify.js';
export { generate, generateInput, rng, GUANGZHOU_SIZE, LARGE_SIZE, type GeneratorOptions } from './generate.js';
// The plugin.
export { matching, matchingPlugin, type Services } from './plugin.js';
export { matchingScore, matchingConstraints, planOrdered, ballotClosed, type ScoredCandidate, type ScoreContext } from './hooks.js';
export { MatchingService, PLANNER_ROLES, bandRules, type LevelBand, type DemandSource, type SurveyDemandReader, type RunInput, type Run, type RunSummary, type PlanRecord, type MatchingConfig, type Recommendation, type Recommendations } from './matching.js';
export { planLifecycle, RUN_STATES, PLAN_STATES, type RunState, type PlanState, type PlanAction } from './lifecycle.js';
export { BallotService, ballotLifecycle, tally, BALLOT_STATES, BALLOT_STAFF, BallotProblems, type Ballot, type BallotInput, type BallotResult, type BallotState, type BallotAction, type BallotOptionView } from './ballots.js';
export { equalShares, mostVotes, type BallotOption, type Vote, type Completion, type RuleParameters, type Funded, type GroupExplanation, type Outcome } from './equal-shares.js';
export type { SolveJobData } from './worker.js';
export { RunSchema, PlanSchema, ExplanationSchema, WhyNotSchema, ExportSchema, RecommendationsSchema, BallotSchema } from './routes/models.js';
