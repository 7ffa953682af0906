/**
 * The Guangzhou demo (演示数据): one synthetic demand survey (需求采集) published by the
 * city, a few hundred synthetic responses across the districts' streets, groups, age
 * bands and languages, and a few direct demand requests from units — all through the
 * package's own services, by system actors, so the needs map, the gaps and the results
 * have something to show. Everything is fictitious (虚构) and says so in its title.
 */
import { transaction, type KernelServices, type PluginContext } from '@diandan/kernel';
import { checkAnswers, checkDefinition } from './definition.js';
import type { DemandRequestService } from './requests.js';
import type { QuestionnaireService } from './questionnaires.js';
import type { ResponseService, Respondent } from './responses.js';

/** What the demo needs from the plugin's context and services. */
export type DemoContext = Pick<PluginContext<unknown, { kernel: KernelServices }>, 'deps' | 'systemActor' | 'log' | 'db'>;
export interface DemoServices {
  questionnaires: QuestionnaireService;
  responses: ResponseService;
  requests: DemandRequestService;
}

/** How the demo questionnaire is recognised on the next start (idempotence). */
export const DEMO_MARKER = '(synthetic demo data)';
const l = (zh: string, en: string) => ({ 'zh-cn': zh, en });

/** The synthetic Guangzhou demand survey: SurveyJS JSON subset with demand mappings. */
export function demoDefinition(): Record<string, unknown> {
  return {
    title: l('广州市基层公共文化需求调查（演示数据，虚构）', `Guangzhou community cultural needs survey ${DEMO_MARKER}`),
    description: l('本问卷及其答卷均为演示用虚构数据。', 'This questionnaire and every response to it are fictitious, for the demo.'),
    pages: [
      {
        name: 'needs',
        title: l('文化需求', 'Cultural needs'),
        elements: [
          {
            type: 'radiogroup',
            name: 'attends',
            title: l('过去一年您参加过社区文化活动吗？', 'Did you attend a community cultural event in the past year?'),
            isRequired: true,
            choices: [
              { value: 'often', text: l('经常', 'Often') },
              { value: 'sometimes', text: l('偶尔', 'Sometimes') },
              { value: 'never', text: l('从未', 'Never') },
            ],
          },
          {
            type: 'checkbox',
            name: 'why_not',
            title: l('没有参加的原因', 'Why not?'),
            visibleIf: "{attends} = 'never'",
            maxSelectedChoices: 2,
            choices: [
              { value: 'time', text: l('没有时间', 'No time') },
              { value: 'unaware', text: l('不知道有活动', 'Did not know about events') },
              { value: 'content', text: l('内容不合适', 'The content does not suit me') },
            ],
          },
          {
            type: 'checkbox',
            name: 'wants',
            title: l('您最希望社区提供哪些活动？（最多三项）', 'Which activities do you most want in your community? (up to three)'),
            isRequired: true,
            minSelectedChoices: 1,
            maxSelectedChoices: 3,
            choices: [
              { value: 'opera', text: l('粤剧粤曲', 'Cantonese opera'), demand: { category: 'performance', tags: ['cantonese-opera'] } },
              { value: 'concert', text: l('音乐会', 'Concerts'), demand: { category: 'performance', tags: ['music'] } },
              { value: 'reading', text: l('阅读分享', 'Reading clubs'), demand: { category: 'reading-promotion' } },
              { value: 'heritage', text: l('非遗体验', 'Intangible heritage'), demand: { category: 'intangible-heritage', tags: ['lingnan'] } },
              { value: 'film', text: l('露天电影', 'Open-air films'), demand: { category: 'screening' } },
              { value: 'craft', text: l('手工制作', 'Crafts'), demand: { category: 'handcraft-workshop' } },
              { value: 'arts', text: l('少儿美育', "Children's arts"), demand: { category: 'art-education' } },
            ],
          },
          { type: 'rating', name: 'lectures', title: l('您对健康、历史类讲座的兴趣', 'Your interest in health and history lectures'), rateMin: 1, rateMax: 5, demand: { category: 'lecture' } },
          {
            type: 'ranking',
            name: 'times',
            title: l('请按方便程度排列活动时间', 'Rank the times that suit you'),
            choices: [
              { value: 'weekday_day', text: l('工作日白天', 'Weekday daytime') },
              { value: 'weekday_evening', text: l('工作日晚上', 'Weekday evenings') },
              { value: 'weekend', text: l('周末', 'Weekends') },
            ],
          },
          {
            type: 'matrix',
            name: 'satisfaction',
            title: l('您对以下方面的满意度', 'How satisfied are you with'),
            rows: [
              { value: 'venues', text: l('场馆设施', 'Venues') },
              { value: 'events', text: l('活动内容', 'Events') },
            ],
            columns: [
              { value: 'low', text: l('不满意', 'Unsatisfied') },
              { value: 'mid', text: l('一般', 'Neutral') },
              { value: 'high', text: l('满意', 'Satisfied') },
            ],
          },
          { type: 'text', name: 'visits', inputType: 'number', min: 0, max: 365, title: l('您每年去文化场馆几次？', 'How many times a year do you visit a cultural venue?') },
        ],
      },
    ],
  };
}

/** A small deterministic PRNG (mulberry32): the same demo on every fresh database. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Groups with the age bands and wishes that make the synthetic map look like one. */
const PROFILES = [
  { group: 'elderly', ageBands: ['60-74', '75+'], wants: ['opera', 'opera', 'heritage', 'reading', 'film'], languages: ['cantonese', 'cantonese', 'mandarin'] },
  { group: 'children', ageBands: ['0-17'], wants: ['arts', 'arts', 'craft', 'reading', 'film'], languages: ['mandarin', 'cantonese'] },
  { group: 'youth', ageBands: ['0-17', '18-34'], wants: ['concert', 'film', 'craft', 'heritage'], languages: ['mandarin', 'cantonese', 'english'] },
  { group: 'young-adults', ageBands: ['18-34', '35-59'], wants: ['concert', 'reading', 'film', 'craft'], languages: ['mandarin', 'cantonese'] },
  { group: 'migrant-workers', ageBands: ['18-34', '35-59'], wants: ['film', 'concert', 'reading'], languages: ['mandarin', 'hakka', 'teochew'] },
  { group: 'general-public', ageBands: ['18-34', '35-59', '60-74'], wants: ['opera', 'concert', 'reading', 'heritage', 'film'], languages: ['cantonese', 'mandarin'] },
] as const;

/** Responses per district: more where more people live (roughly), a few hundred in all. */
export const DEMO_RESPONSES = 360;

/** One synthetic response. */
export function demoResponse(next: () => number, streets: readonly string[]): { answers: Record<string, unknown>; respondent: Respondent } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const profile = pick(PROFILES);
  const attends = pick(['often', 'sometimes', 'sometimes', 'never'] as const);
  const wants = [...new Set([pick(profile.wants), pick(profile.wants), pick(profile.wants)])].slice(0, 1 + Math.floor(next() * 3));
  const times = ['weekday_day', 'weekday_evening', 'weekend'].sort(() => next() - 0.5);
  const answers: Record<string, unknown> = {
    attends,
    wants,
    lectures: profile.group === 'elderly' ? 3 + Math.floor(next() * 3) : 1 + Math.floor(next() * 4),
    times,
    satisfaction: { venues: pick(['low', 'mid', 'high', 'high']), events: pick(['low', 'mid', 'mid', 'high']) },
    visits: Math.floor(next() * (attends === 'often' ? 60 : 12)),
  };
  if (attends === 'never') answers.why_not = [pick(['time', 'unaware', 'content'])];
  return { answers, respondent: { regionCode: pick(streets), group: profile.group, ageBand: pick(profile.ageBands), language: pick(profile.languages) } };
}

/**
 * Seeds the demo once: skipped when the demo questionnaire exists already (a restart) or
 * the region tree has no Guangzhou districts with streets (not the demo deployment).
 *
 * It runs inside `kernel.ready` (so `/ready` only answers once the demo is there), hence
 * kept short: the streets come from one subtree read, their paths are looked up together,
 * and everything — questionnaire, publication, the responses and their demand records in
 * bulk, the units' requests — is written in one transaction (one commit; the demo appears
 * whole or not at all).
 */
export async function seedSurveyDemo(ctx: DemoContext, s: DemoServices): Promise<void> {
  const k = ctx.deps.kernel;
  const root = await k.regions.root();
  if (!root) return;
  const city = await ctx.systemActor({ roles: ['city-admin'], region: root.code });
  for (let cursor: string | null | undefined = undefined; ; ) {
    const page = await s.questionnaires.list({ page: { limit: 100, cursor: cursor ?? undefined } }, { actor: city });
    if (page.items.some((q) => JSON.stringify(q.definition.title ?? '').includes(DEMO_MARKER))) return;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  // Districts and their streets: two levels below the city, depth-first, in one read per page.
  const streets: string[] = [];
  for (let cursor: string | null | undefined = undefined; ; ) {
    const page = await k.regions.subtree({ code: root.code, depth: 2, page: { limit: 200, cursor: cursor ?? undefined } });
    streets.push(...page.items.filter((r) => r.level === 'street').map((r) => r.code));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  if (!streets.length) {
    ctx.log.info('survey demo skipped: it needs districts with streets');
    return;
  }
  const paths = new Map(await Promise.all(streets.map(async (code) => [code, (await k.regions.path(code))!] as const)));
  const units = (await k.units.list({ page: { limit: 20 } }, { actor: city })).items;
  const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
  const following = nextMonth(month);
  const wishes = [
    { title: '十一月为长者安排一场粤剧专场（虚构）', group: 'elderly', category: 'performance', tags: ['cantonese-opera'], expectedAudience: 120, period: following },
    { title: '暑期少儿美育课堂（虚构）', group: 'children', category: 'art-education', tags: [], expectedAudience: 40, period: following },
    { title: '来穗务工人员露天电影（虚构）', group: 'migrant-workers', category: 'screening', tags: [], expectedAudience: 200, period: month },
  ];
  const operators = await Promise.all(units.slice(0, wishes.length).map((unit) => ctx.systemActor({ roles: ['unit-operator'], region: unit.regionCode, unit: unit.id })));
  // Checked like any response (the same rules), stored in bulk with source `demo`, so its responses say they are synthetic.
  const questions = checkDefinition(demoDefinition()).questions;
  const next = random(20261101);
  const items = Array.from({ length: DEMO_RESPONSES }, () => {
    const { answers, respondent } = demoResponse(next, streets);
    const checked = checkAnswers(questions, answers, true, { regionExists: () => false, groupExists: () => false });
    return { answers: checked, respondent: { ...respondent, regionPath: paths.get(respondent.regionCode!)! } };
  });
  const published = await transaction(ctx.db, async (tx) => {
    const draft = await s.questionnaires.create({ regionCode: root.code, definition: demoDefinition() }, { actor: city, tx });
    const done = await s.questionnaires.act({ id: draft.id, action: 'publish', expectedVersion: draft.version }, { actor: city, tx });
    const row = (await s.questionnaires.bySlug(done.slug, tx))!;
    await s.responses.storeCompleted(tx, row, row.publishedVersion!, questions, items, 'demo');
    for (const [i, operator] of operators.entries()) {
      await s.requests.create({ unitId: units[i]!.id, ...wishes[i]!, description: '演示用直接需求（虚构）' }, { actor: operator, tx });
    }
    return done;
  });
  ctx.log.info({ questionnaire: published.id, responses: DEMO_RESPONSES, requests: operators.length }, 'seeded the survey demo (synthetic questionnaire, responses and demand requests)');
}

/** `YYYY-MM` of the month after. */
export function nextMonth(period: string): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}
