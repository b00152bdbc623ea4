import { readFile } from 'node:fs/promises';
import { ImportFileError, readImportRows } from '../rbac/import/read-rows.js';
import { importMembers as runImport, type ImportReport, type RowOutcome } from '../rbac/import/import-members.js';
import { buildRoleMap, RoleMapError } from '../rbac/import/role-map.js';
import { openCliDatabase } from './database.js';

export const importMembersUsage = `                    Options: --dry-run reports without writing, --map FILE reads a JSON
                    object of legacy role names to roles (else IMPORT_ROLE_MAP_FILE).
                    Exits 2 when some rows were skipped. See docs/workspaces.md.`;

interface Options {
  file: string;
  mapFile: string | undefined;
  dryRun: boolean;
}

function parseArgs(args: string[]): Options | string {
  let file: string | undefined;
  let mapFile: string | undefined;
  let dryRun = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--dry-run') dryRun = true;
    else if (arg === '--map') mapFile = args[++i];
    else if (arg.startsWith('--map=')) mapFile = arg.slice('--map='.length);
    else if (arg.startsWith('-') || file !== undefined) return `Unexpected argument: ${arg}`;
    else file = arg;
  }
  if (!file) return 'Missing FILE: name a JSON or CSV file of workspace, email and role.';
  if (args.includes('--map') && !mapFile) return 'Missing value of --map: name a JSON file.';

  return { file, mapFile, dryRun };
}

/** `import-members FILE [--dry-run] [--map FILE]`. Exit 0 all applied, 2 rows skipped, 1 failed. */
export async function importMembers(args: string[]): Promise<number> {
  const options = parseArgs(args);
  if (typeof options === 'string') {
    process.stderr.write(`${options}\nUsage: npm run gatehouse -- import-members FILE [--dry-run] [--map FILE]\n`);
    return 64;
  }
  const { config, db } = await openCliDatabase();
  try {
    const mapFile = options.mapFile ?? config.importRoleMapFile;
    const roleMap = buildRoleMap(mapFile ? await readRoleMapFile(mapFile) : {});
    const rows = readImportRows(await readFile(options.file, 'utf8'), options.file);
    const report = await runImport(db.prisma, rows, roleMap, options.dryRun);
    process.stdout.write(formatReport(report));

    return report.outcomes.some((outcome) => outcome.kind === 'skipped') ? 2 : 0;
  } catch (error) {
    if (!(error instanceof ImportFileError || error instanceof RoleMapError)) throw error;
    process.stderr.write(`import-members: ${error.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

async function readRoleMapFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new RoleMapError(`The role map ${file} is not valid JSON: ${error.message}`);
  }
}

function describe(outcome: RowOutcome, dryRun: boolean): string {
  const where = `${outcome.email} in ${outcome.workspace}`;
  const verb = (done: string, planned: string) => (dryRun ? planned : done);
  switch (outcome.kind) {
    case 'add':
      return `${verb('added', 'would add')} ${where} as ${outcome.role}`;
    case 'change':
      return `${verb('changed', 'would change')} ${where} from ${outcome.from} to ${outcome.role}`;
    case 'unchanged':
      return `unchanged ${where} (already ${outcome.role})`;
    case 'skipped':
      return `skipped ${where}: ${outcome.reason}`;
  }
}

function formatReport(report: ImportReport): string {
  const lines = report.outcomes.map((outcome) => `line ${outcome.line}: ${describe(outcome, report.dryRun)}`);
  const count = (kind: RowOutcome['kind']) => report.outcomes.filter((outcome) => outcome.kind === kind).length;
  const [added, changed] = report.dryRun ? ['to add', 'to change'] : ['added', 'changed'];
  const summary = `${count('add')} ${added}, ${count('change')} ${changed}, ${count('unchanged')} unchanged, ${count('skipped')} skipped`;
  lines.push(report.dryRun ? `Dry run, nothing written: ${summary}.` : `Done: ${summary}.`);

  return `${lines.join('\n')}\n`;
}
