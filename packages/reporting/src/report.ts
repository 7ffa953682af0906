import { sql } from 'drizzle-orm';
import { kernelTables, queryRows, type Actor, type Executor, type HookBus } from '@diandan/kernel';
import { evaluate, CHANGNING_INDICATORS, type Efficiency } from './efficiency.js';
import { equityOf, type BalanceWeights, type Equity } from './equity.js';
import { efficiencyIndicators, type ReportSection } from './hooks.js';
import type { Locale } from './i18n.js';
import { type KpiService, pathPrefix, type Kpis, type LevelIndex } from './kpis.js';
import type { Period } from './period.js';
import { sectionsOf, type OptionalSources } from './sections.js';

/** Everything the annual report shows, as data (the JSON download). */
export interface ReportData {
  generatedAt: string;
  locale: Locale;
  kpis: Kpis;
  equity: Equity;
  efficiency: Efficiency;
  /** Sections from other plugins' data and from `report.sections`; `available: false` ones carry a note. */
  sections: ReportSection[];
  /** Region boundaries (GeoJSON) of the districts and streets, where the region data has them. */
  geometry: { code: string; level: string; geometry: unknown }[];
}

/** What reporting computes, for routes, the report job and other plugins. */
export class ReportingService {
  constructor(
    readonly kpiService: KpiService,
    private readonly levels: LevelIndex,
    private readonly hooks: HookBus,
    private readonly sources: OptionalSources,
    private readonly options: { balanceWeights: BalanceWeights; gapLimit: number },
  ) {}

  kpis(db: Executor, input: { regionCode: string; regionPath: string; period: Period }): Promise<Kpis> {
    return this.kpiService.compute(db, input);
  }

  /** Equity from KPIs already computed (no further query). */
  equity(kpis: Kpis): Equity {
    return equityOf(kpis, this.options.balanceWeights, { districtOfStreet: (code) => this.districtOf.get(code), gapLimit: this.options.gapLimit });
  }

  /** District of each street, refreshed by `loadDistricts`. */
  private districtOf = new Map<string, string>();

  async equityFor(db: Executor, kpis: Kpis, regionPath: string): Promise<Equity> {
    await this.loadDistricts(db, regionPath);
    return this.equity(kpis);
  }

  private async loadDistricts(db: Executor, regionPath: string): Promise<void> {
    const rows = await queryRows<{ code: string; district: string | null }>(
      db,
      sql`select code, nullif(split_part(path, '/', ${this.levels.district + 1}), '') as district from ${kernelTables.regions}
          where level = ${this.levels.names.street} and path collate "C" like ${pathPrefix(regionPath)}`,
    );
    for (const r of rows) if (r.district) this.districtOf.set(r.code, r.district);
  }

  /** The efficiency evaluation; `kpis` may still be computing (the indicators' definitions are gathered meanwhile). */
  async efficiency(kpis: Kpis | Promise<Kpis>, input: { regionCode: string; regionPath: string; period: Period }): Promise<Efficiency> {
    const [definitions, k] = await Promise.all([this.hooks.apply(efficiencyIndicators, [...CHANGNING_INDICATORS], input), kpis]);
    return evaluate(definitions, { kpis: k, ...k.participation });
  }

  sections(db: Executor, kpis: Kpis, input: { regionCode: string; regionPath: string; period: Period; locale: Locale }, actor: Actor | undefined): Promise<ReportSection[]> {
    return sectionsOf(this.sources, this.hooks, { ...input, db }, kpis, actor);
  }

  /** Everything at once, with `progress` called between the steps. */
  async reportData(
    db: Executor,
    input: { regionCode: string; regionPath: string; period: Period; locale: Locale },
    actor: Actor | undefined,
    progress: (percent: number, message: string) => Promise<void> = async () => {},
  ): Promise<ReportData> {
    await progress(5, 'kpis');
    // The streets' districts and the boundaries do not depend on the KPIs: read while the KPIs' statements run, not after.
    const [kpis, , geometry] = await Promise.all([
      this.kpis(db, input),
      this.loadDistricts(db, input.regionPath),
      queryRows<{ code: string; level: string; geometry: unknown }>(
        db,
        sql`select code, level, geometry from ${kernelTables.regions}
            where geometry is not null and level in (${this.levels.names.district}, ${this.levels.names.street}) and path collate "C" like ${pathPrefix(input.regionPath)}`,
      ),
    ]);
    await progress(45, 'equity');
    const equity = this.equity(kpis);
    await progress(55, 'efficiency');
    const efficiency = await this.efficiency(kpis, input);
    await progress(65, 'sections');
    const sections = await this.sections(db, kpis, input, actor);
    return { generatedAt: new Date().toISOString(), locale: input.locale, kpis, equity, efficiency, sections, geometry };
  }
}
