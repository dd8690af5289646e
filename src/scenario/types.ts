import type { InvariantConfig } from '../invariants/registry.js';
import type { LoadConfig } from '../load/registry.js';
import type { FaultConfig } from '../timeline/registry.js';
import type { ScenarioConfig } from './schema.js';

/**
 * A validated, immutable scenario with absolute paths: what the run works from. Built by
 * `loadScenario(file)`; nothing starts before a scenario has been fully validated.
 */
export interface Scenario {
  /** Absolute path of the scenario file. */
  readonly file: string;
  /** Folder of the scenario file; relative paths in it resolve from here. */
  readonly dir: string;
  readonly name: string;
  readonly description?: string;
  readonly target: Readonly<Omit<ScenarioConfig['target'], 'defaultVariant'>> & {
    /** Absolute working directory. */
    readonly cwd: string;
    readonly defaultVariant?: string;
  };
  readonly database: Readonly<ScenarioConfig['database']>;
  /** Services the target calls, by name, `cwd` absolute (`src/env/dependencies-schema.ts`). */
  readonly dependencies: Readonly<ScenarioConfig['dependencies']>;
  readonly load: Readonly<LoadConfig>;
  readonly invariants: readonly Readonly<InvariantConfig>[];
  /** The fault timeline, `at` in ms since load start (validated: before the end of the load, no overlaps). */
  readonly faults: readonly Readonly<FaultConfig>[];
  readonly trials: number;
}
