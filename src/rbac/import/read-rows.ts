/** One membership row of an import file. `line` is 1-based, counting the CSV header. */
export interface ImportRow {
  line: number;
  workspace: string;
  email: string;
  legacyRole: string;
}

/** Thrown for a file that cannot be read as rows: the message names the line and the fix. */
export class ImportFileError extends Error {
  override name = 'ImportFileError';
}

const columns = ['workspace', 'email', 'role'] as const;

/**
 * Reads rows from JSON (an array of {workspace, email, role} objects) or CSV (a header naming
 * the columns workspace, email and role in any order). A `.json` name or a leading "[" selects JSON.
 */
export function readImportRows(text: string, fileName: string): ImportRow[] {
  const content = text.replace(/^\uFEFF/, '');
  if (fileName.toLowerCase().endsWith('.json') || content.trimStart().startsWith('[')) return readJson(content);

  return readCsv(content);
}

function readJson(content: string): ImportRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new ImportFileError(`The file is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ImportFileError('The JSON file must hold an array of {workspace, email, role} objects.');

  return parsed.map((item: unknown, index) => {
    const record = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const field = (name: string) => (typeof record[name] === 'string' ? (record[name] as string).trim() : '');

    return { line: index + 1, workspace: field('workspace'), email: field('email'), legacyRole: field('role') };
  });
}

function readCsv(content: string): ImportRow[] {
  const records = parseCsv(content);
  const header = records.shift()?.map((name) => name.trim().toLowerCase()) ?? [];
  const positions = columns.map((name) => header.indexOf(name));
  if (positions.some((position) => position < 0)) {
    throw new ImportFileError(`The CSV header must name the columns ${columns.join(', ')}. It has: ${header.join(', ')}.`);
  }
  const [workspace, email, role] = positions as [number, number, number];

  return records
    .map((fields, index) => ({ fields, line: index + 2 }))
    .filter(({ fields }) => fields.some((field) => field.trim() !== ''))
    .map(({ fields, line }) => ({
      line,
      workspace: (fields[workspace] ?? '').trim(),
      email: (fields[email] ?? '').trim(),
      legacyRole: (fields[role] ?? '').trim(),
    }));
}

/** Splits RFC 4180 CSV: commas, CRLF or LF line ends, double quotes with "" as an escaped quote. */
function parseCsv(content: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < content.length; i++) {
    const char = content[i]!;
    if (quoted) {
      if (char === '"' && content[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && content[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) throw new ImportFileError('The CSV file ends inside a quoted field: close the quote.');
  if (field !== '' || record.length > 0) records.push([...record, field]);

  return records;
}
