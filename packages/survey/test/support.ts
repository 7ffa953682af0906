/** Shared test data and helpers: every definition, answer and token here is synthetic. */
import { expectStatus, ifMatch, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import type { DemandService, ImportService, QuestionnaireService, ResponseService } from '../src/index.js';

const l = (zh: string, en: string) => ({ 'zh-cn': zh, en });

/** A demand survey with every question type, a panel, conditions and demand mappings. */
export function demandSurvey(): Record<string, unknown> {
  return {
    title: l('文化需求调查（测试）', 'Cultural needs survey (test)'),
    pages: [
      {
        name: 'p1',
        title: l('基本情况', 'About you'),
        elements: [
          {
            type: 'radiogroup',
            name: 'attends',
            title: l('您参加过社区文化活动吗？', 'Have you attended community cultural events?'),
            isRequired: true,
            choices: [
              { value: 'yes', text: l('参加过', 'Yes') },
              { value: 'no', text: l('没有', 'No') },
            ],
          },
          { type: 'comment', name: 'why_not', title: l('为什么没有？', 'Why not?'), maxLength: 100, visibleIf: "{attends} = 'no'" },
          {
            type: 'checkbox',
            name: 'wants',
            title: l('您想要哪些活动？', 'Which activities do you want?'),
            minSelectedChoices: 1,
            maxSelectedChoices: 2,
            choices: [
              { value: 'opera', text: l('粤剧', 'Cantonese opera'), demand: { category: 'performance', tags: ['cantonese-opera'] } },
              { value: 'reading', text: l('阅读', 'Reading'), demand: { category: 'reading-promotion' } },
              { value: 'craft', text: l('手工', 'Crafts'), demand: { category: 'handcraft-workshop' } },
            ],
          },
          { type: 'text', name: 'opera_troupe', title: l('想看哪个剧团？', 'Which troupe?'), maxLength: 20, visibleIf: "{wants} contains 'opera'" },
        ],
      },
      {
        name: 'p2',
        title: l('偏好', 'Preferences'),
        elements: [
          {
            type: 'panel',
            name: 'timing',
            title: l('时间', 'Timing'),
            elements: [
              { type: 'text', name: 'visits', inputType: 'number', min: 0, max: 365, title: l('每年去几次？', 'Visits a year?') },
              { type: 'text', name: 'next_date', inputType: 'date', title: l('方便的日期', 'A convenient date') },
              { type: 'rating', name: 'interest', rateMin: 1, rateMax: 5, title: l('对讲座的兴趣', 'Interest in lectures'), demand: { category: 'lecture' } },
            ],
          },
          {
            type: 'ranking',
            name: 'rank',
            title: l('排序', 'Rank'),
            choices: [
              { value: 'exhibition', text: l('展览', 'Exhibitions'), demand: { category: 'exhibition' } },
              { value: 'screening', text: l('放映', 'Screenings'), demand: { category: 'screening' } },
            ],
          },
          { type: 'dropdown', name: 'district', choicesSource: 'regions', title: l('所在区', 'District') },
          { type: 'dropdown', name: 'group', choicesSource: 'populationGroups', title: l('人群', 'Group') },
          {
            type: 'matrix',
            name: 'satisfaction',
            title: l('满意度', 'Satisfaction'),
            rows: [
              { value: 'venues', text: l('场馆', 'Venues') },
              { value: 'events', text: l('活动', 'Events') },
            ],
            columns: [
              { value: 'low', text: l('低', 'Low') },
              { value: 'high', text: l('高', 'High') },
            ],
          },
          { type: 'text', name: 'short', title: l('一句话', 'One line'), visibleIf: '{attends} notempty and {visits} empty' },
        ],
      },
    ],
  };
}

/** Creates and publishes a questionnaire; returns it. */
export async function publishedSurvey(call: Call, who: Who, body: Record<string, unknown> = {}): Promise<any> {
  const created = expectStatus(await call(who, 'POST', '/v1/surveys', { regionCode: '440100', definition: demandSurvey(), ...body }), 201, 'create survey');
  return expectStatus(await call(who, 'POST', `/v1/surveys/${created.id}/publish`, undefined, ifMatch(created)), 200, 'publish');
}

/** The survey's services, and a way to run its import job now. */
export function surveyOf(app: FastifyInstance) {
  const plugin = app.diandan.plugins.find((p) => p.definition.name === 'survey')!;
  return { ...(plugin.services as { questionnaires: QuestionnaireService; responses: ResponseService; demand: DemandService; imports: ImportService }), context: plugin.context };
}

/** Waits until `check` holds. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Texts respondents type that must never reach a log line. */
export const FREE_TEXTS = ['我的私人意见测试甲', '测试剧团名称乙'] as const;
