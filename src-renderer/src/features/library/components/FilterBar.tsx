/**
 * Search (full text over prompt, negative and enhanced prompt), sort, layout, and the filters: kind,
 * job type, model, favourites, rating, tags, project, dates. Every change is a new question to the
 * engine; typing is debounced so a word costs one query, not one per key.
 */
import { Popover } from 'radix-ui';
import { useEffect, useId, useRef, useState } from 'react';
import { BUCKETS } from '../../../contract.ts';
import type { Bucket, LibrarySort } from '../../../contract.ts';
import { useStudio } from '../../../store.ts';
import { activeFilterCount, localDayStart } from '../filters.ts';
import { bucketLabel } from '../labels.ts';
import { CalendarIcon, GridIcon, HeartIcon, ListIcon, SearchIcon, TagIcon } from '../../../components/icons.tsx';

const SEARCH_DELAY_MS = 250;

const SORTS: readonly { value: string; label: string }[] = [
  { value: 'date:desc', label: 'Newest first' },
  { value: 'date:asc', label: 'Oldest first' },
  { value: 'rating:desc', label: 'Highest rated' },
  { value: 'prompt:asc', label: 'Prompt A–Z' },
  { value: 'prompt:desc', label: 'Prompt Z–A' },
  { value: 'model:asc', label: 'Model A–Z' },
  { value: 'model:desc', label: 'Model Z–A' },
  { value: 'rating:asc', label: 'Lowest rated' },
];

function SearchBox() {
  const search = useStudio((s) => s.libraryFilters.search);
  const setFilters = useStudio((s) => s.setLibraryFilters);
  const [text, setText] = useState(search);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Cleared elsewhere ("Clear filters"): follow.
  useEffect(() => setText(search), [search]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  const commit = (value: string) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (value !== useStudio.getState().libraryFilters.search) setFilters({ search: value });
  };
  return (
    <label className="search-box">
      <SearchIcon />
      <input
        type="search"
        placeholder="Search prompts…"
        aria-label="Search prompts"
        value={text}
        maxLength={500}
        onChange={(e) => {
          const value = e.target.value;
          setText(value);
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => commit(value), SEARCH_DELAY_MS);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(text);
          if (e.key === 'Escape' && text !== '') {
            e.stopPropagation();
            setText('');
            commit('');
          }
        }}
      />
    </label>
  );
}

function TagFilter() {
  const tags = useStudio((s) => s.libraryTags);
  const chosen = useStudio((s) => s.libraryFilters.tags);
  const mode = useStudio((s) => s.libraryFilters.tagMode);
  const setFilters = useStudio((s) => s.setLibraryFilters);
  const toggle = (name: string) => setFilters({ tags: chosen.includes(name) ? chosen.filter((t) => t !== name) : [...chosen, name] });
  return (
    <Popover.Root>
      <Popover.Trigger className={`chip${chosen.length > 0 ? ' chip--on' : ''}`} aria-label="Filter by tags">
        <TagIcon />
        {chosen.length === 0 ? 'Tags' : chosen.length === 1 ? chosen[0] : `${chosen.length} tags`}
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content className="popover" sideOffset={6} align="start" collisionPadding={16} aria-label="Filter by tags">
          {tags.length === 0 ? (
            <p className="popover-empty">No tags yet. Select assets and choose “Tag…” to add some.</p>
          ) : (
            <>
              <div className="popover-head">
                <span>Show assets with</span>
                <div className="segmented" role="group" aria-label="Tag match">
                  <button type="button" aria-pressed={mode === 'all'} onClick={() => setFilters({ tagMode: 'all' })}>
                    all
                  </button>
                  <button type="button" aria-pressed={mode === 'any'} onClick={() => setFilters({ tagMode: 'any' })}>
                    any
                  </button>
                </div>
              </div>
              <ul className="tag-options">
                {tags.map((t) => (
                  <li key={t.id}>
                    <label>
                      <input type="checkbox" checked={chosen.includes(t.name)} onChange={() => toggle(t.name)} />
                      <span className="tag-option-name">{t.name}</span>
                      <span className="tag-option-count">{t.count.toLocaleString()}</span>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          )}
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}

const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', year: 'numeric' });

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** "Mar 1, 2025 – Mar 31, 2025", "Since Mar 1, 2025", "Any date". */
export function dateRangeLabel(from: string, to: string): string {
  const f = localDayStart(from);
  const t = localDayStart(to);
  if (f !== null && t !== null) return f === t ? dayFormat.format(f) : `${dayFormat.format(f)} – ${dayFormat.format(t)}`;
  if (f !== null) return `Since ${dayFormat.format(f)}`;
  if (t !== null) return `Until ${dayFormat.format(t)}`;
  return 'Any date';
}

function DateFilter() {
  const from = useStudio((s) => s.libraryFilters.from);
  const to = useStudio((s) => s.libraryFilters.to);
  const setFilters = useStudio((s) => s.setLibraryFilters);
  const id = useId();
  const on = from !== '' || to !== '';
  const lastDays = (n: number) => {
    const end = new Date();
    const start = new Date(end.getFullYear(), end.getMonth(), end.getDate() - (n - 1));
    setFilters({ from: isoDay(start), to: isoDay(end) });
  };
  return (
    <Popover.Root>
      <Popover.Trigger className={`chip${on ? ' chip--on' : ''}`} aria-label={`Date: ${dateRangeLabel(from, to)}`}>
        <CalendarIcon />
        {dateRangeLabel(from, to)}
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content className="popover popover--dates" sideOffset={6} align="start" collisionPadding={16} aria-label="Filter by date">
          <div className="date-presets">
            <button type="button" className="tag-chip" onClick={() => lastDays(1)}>
              Today
            </button>
            <button type="button" className="tag-chip" onClick={() => lastDays(7)}>
              Last 7 days
            </button>
            <button type="button" className="tag-chip" onClick={() => lastDays(30)}>
              Last 30 days
            </button>
          </div>
          <div className="date-fields">
            <label htmlFor={`${id}-from`}>From</label>
            <input id={`${id}-from`} type="date" className="input date-input" value={from} max={to || undefined} onChange={(e) => setFilters({ from: e.target.value })} />
            <label htmlFor={`${id}-to`}>To</label>
            <input id={`${id}-to`} type="date" className="input date-input" value={to} min={from || undefined} onChange={(e) => setFilters({ to: e.target.value })} />
          </div>
          {on ? (
            <button type="button" className="btn btn-link" onClick={() => setFilters({ from: '', to: '' })}>
              Any date
            </button>
          ) : null}
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}

export function FilterBar() {
  const filters = useStudio((s) => s.libraryFilters);
  const sort = useStudio((s) => s.librarySort);
  const layout = useStudio((s) => s.libraryLayout);
  const models = useStudio((s) => s.libraryModels);
  const installed = useStudio((s) => s.models);
  const projects = useStudio((s) => s.libraryProjects);
  const setFilters = useStudio((s) => s.setLibraryFilters);
  const clearFilters = useStudio((s) => s.clearLibraryFilters);
  const setSort = useStudio((s) => s.setLibrarySort);
  const setLayout = useStudio((s) => s.setLibraryLayout);
  const active = activeFilterCount(filters);

  const sortValue = `${sort.sort}:${sort.order}`;
  const modelOptions = [...new Set([...models, ...(installed ?? []).filter((m) => m.family !== 'qwen').map((m) => m.id), ...(filters.model !== 'all' ? [filters.model] : [])])].sort();

  return (
    <div className="filter-bar">
      <div className="filter-row">
        <SearchBox />
        <label className="select-label">
          <span className="visually-hidden">Sort</span>
          <select
            className="select"
            aria-label="Sort"
            value={sortValue}
            onChange={(e) => {
              const [s, o] = e.target.value.split(':') as [LibrarySort, 'asc' | 'desc'];
              setSort({ sort: s, order: o });
            }}
          >
            {SORTS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <div className="segmented segmented--icons" role="group" aria-label="Layout">
          <button type="button" aria-pressed={layout === 'grid'} aria-label="Grid" title="Grid" onClick={() => setLayout('grid')}>
            <GridIcon />
          </button>
          <button type="button" aria-pressed={layout === 'table'} aria-label="Table" title="Table" onClick={() => setLayout('table')}>
            <ListIcon />
          </button>
        </div>
      </div>
      <div className="filter-row filter-row--chips" role="group" aria-label="Filters">
        <select className="select select--chip" aria-label="Kind" value={filters.kind} onChange={(e) => setFilters({ kind: e.target.value as 'all' | 'image' | 'video' })} data-on={filters.kind !== 'all'}>
          <option value="all">Images & videos</option>
          <option value="image">Images</option>
          <option value="video">Videos</option>
        </select>
        <select className="select select--chip" aria-label="Job type" value={filters.bucket} onChange={(e) => setFilters({ bucket: e.target.value as Bucket | 'all' })} data-on={filters.bucket !== 'all'}>
          <option value="all">All job types</option>
          {BUCKETS.map((b) => (
            <option key={b} value={b}>
              {bucketLabel(b)}
            </option>
          ))}
        </select>
        <select className="select select--chip" aria-label="Model" value={filters.model} onChange={(e) => setFilters({ model: e.target.value })} data-on={filters.model !== 'all'}>
          <option value="all">All models</option>
          {modelOptions.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <select className="select select--chip" aria-label="Minimum rating" value={filters.minRating} onChange={(e) => setFilters({ minRating: Number(e.target.value) })} data-on={filters.minRating > 0}>
          <option value={0}>Any rating</option>
          {[1, 2, 3, 4, 5].map((r) => (
            <option key={r} value={r}>
              {'★'.repeat(r)}
              {r < 5 ? ' or more' : ' only'}
            </option>
          ))}
        </select>
        <button type="button" className={`chip${filters.favorite ? ' chip--on' : ''}`} aria-pressed={filters.favorite} onClick={() => setFilters({ favorite: !filters.favorite })}>
          <HeartIcon filled={filters.favorite} />
          Favourites
        </button>
        <TagFilter />
        <select className="select select--chip" aria-label="Project" value={filters.project} onChange={(e) => setFilters({ project: e.target.value })} data-on={filters.project !== 'all'}>
          <option value="all">All projects</option>
          <option value="none">In no project</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title}
            </option>
          ))}
        </select>
        <DateFilter />
        {active > 0 || filters.search !== '' ? (
          <button type="button" className="btn btn-link filter-clear" onClick={clearFilters}>
            Clear filters
          </button>
        ) : null}
      </div>
    </div>
  );
}
