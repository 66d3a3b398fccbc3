// The table the benchmark prints: one row per figure of issue #8, the yardstick beside it.
export interface Row {
  scenario: string;
  yardstick: string;
  api: string;
  ratio: string;
  target: string;
  /** true / false, or undefined when the row has no target */
  met?: boolean;
}

export class Report {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];

  add(row: Row): void {
    this.rows.push(row);
    const met = row.met === undefined ? '' : row.met ? ' [met]' : ' [NOT met]';
    console.error(`bench: ${row.scenario}: yardstick ${row.yardstick} | API ${row.api} | ${row.ratio}${met}`);
  }

  note(text: string): void {
    this.notes.push(text);
    console.error(`bench: note: ${text}`);
  }

  failed(scenario: string, err: string): void {
    this.add({ scenario, yardstick: '—', api: `failed: ${err.split('\n')[0]!.slice(0, 200)}`, ratio: '—', target: '—', met: false });
  }

  markdown(): string {
    const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    const lines = ['| scenario | yardstick | API | ratio | target | met? |', '| --- | --- | --- | --- | --- | --- |'];
    for (const r of this.rows) {
      const met = r.met === undefined ? '—' : r.met ? 'yes' : '**no**';
      lines.push(`| ${esc(r.scenario)} | ${esc(r.yardstick)} | ${esc(r.api)} | ${esc(r.ratio)} | ${esc(r.target)} | ${met} |`);
    }
    return lines.join('\n');
  }
}
