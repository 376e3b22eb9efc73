/**
 * The Library as a table — prompt, model, seed, size, rating, date — windowed like the grid (fixed
 * row height, only the rows in view drawn) and sortable from its column headers.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { displayUrl } from '../../../api/media.ts';
import type { AssetView, LibrarySort } from '../../../contract.ts';
import { formatTime } from '../../../format.ts';
import { useStudio } from '../../../store.ts';
import { defaultOrder } from '../filters.ts';
import { scrollToReveal } from '../grid-math.ts';
import { assetOrigin, clipLength, dimensions, promptOrKind } from '../labels.ts';
import { CheckIcon, HeartIcon, PlayBadgeIcon, StarIcon } from '../../../components/icons.tsx';
import { useListFocusReturn } from './list-focus.ts';
import { useListInteractions, useListState } from './use-list-interactions.ts';
import { useWindow } from './use-window.ts';

const ROW_HEIGHT = 56;
const OVERSCAN = 6;
const PREFETCH = 40;

export const rowId = (index: number) => `library-row-${index}`;

const COLUMNS: readonly { key: string; label: string; sort?: LibrarySort; className: string }[] = [
  { key: 'prompt', label: 'Prompt', sort: 'prompt', className: 'tcol-prompt' },
  { key: 'model', label: 'Model', sort: 'model', className: 'tcol-model' },
  { key: 'seed', label: 'Seed', className: 'tcol-seed' },
  { key: 'size', label: 'Size', className: 'tcol-size' },
  { key: 'rating', label: 'Rating', sort: 'rating', className: 'tcol-rating' },
  { key: 'date', label: 'Date', sort: 'date', className: 'tcol-date' },
];

const TableRow = memo(function TableRow({ index, asset, selected, focused }: { index: number; asset: AssetView | undefined; selected: boolean; focused: boolean }) {
  const style = { transform: `translateY(${index * ROW_HEIGHT}px)`, height: ROW_HEIGHT };
  if (!asset) {
    return (
      <div role="row" id={rowId(index)} data-index={index} className="trow trow--loading" style={style} aria-busy="true">
        <div role="gridcell" className="tcol-prompt">
          <span className="trow-thumb" />
          <span className="trow-skeleton" />
        </div>
      </div>
    );
  }
  const thumb = asset.thumbUrl ? displayUrl(asset.thumbUrl) : null;
  const label = promptOrKind(asset);
  return (
    <div
      role="row"
      id={rowId(index)}
      data-index={index}
      data-asset-id={asset.id}
      aria-selected={selected}
      className={`trow${selected ? ' trow--selected' : ''}${focused ? ' trow--focused' : ''}`}
      style={style}
    >
      <div role="gridcell" className="tcol-prompt">
        <span className="trow-thumb">
          {thumb ? <img src={thumb} alt="" draggable={false} decoding="async" /> : null}
          <span className="trow-check" data-role="check">
            <CheckIcon />
          </span>
        </span>
        <span className="trow-prompt">
          <span className="trow-prompt-text" title={label}>
            {label}
          </span>
          <span className="trow-sub">
            {assetOrigin(asset)}
            {asset.kind === 'video' ? (
              <span className="trow-clip">
                <PlayBadgeIcon /> {clipLength(asset.durationMs)}
              </span>
            ) : null}
            {asset.tags.length > 0 ? <span className="trow-tags">{asset.tags.join(' · ')}</span> : null}
          </span>
        </span>
      </div>
      <div role="gridcell" className="tcol-model" title={asset.model ?? ''}>
        {asset.model ?? '—'}
      </div>
      <div role="gridcell" className="tcol-seed">
        {asset.seed ?? '—'}
      </div>
      <div role="gridcell" className="tcol-size">
        {dimensions(asset)}
      </div>
      <div role="gridcell" className="tcol-rating">
        {asset.favorite ? (
          <span className="trow-fav" aria-label="Favourite">
            <HeartIcon filled />
          </span>
        ) : null}
        {asset.rating > 0 ? (
          <span className="trow-stars" aria-label={`${asset.rating} of 5`}>
            <StarIcon filled /> {asset.rating}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </div>
      <div role="gridcell" className="tcol-date">
        {formatTime(asset.createdAt)}
      </div>
    </div>
  );
});

export function AssetTable() {
  const { feed, total, focus, selected } = useListState();
  const sort = useStudio((s) => s.librarySort);
  const setSort = useStudio((s) => s.setLibrarySort);
  const ref = useRef<HTMLDivElement>(null);
  const layoutOf = useCallback(() => ({ rowHeight: ROW_HEIGHT, rowCount: total }), [total]);
  const win = useWindow(ref, layoutOf, OVERSCAN);
  const pageRows = Math.max(1, Math.floor(win.height / ROW_HEIGHT) - 1);
  // The header sits outside the scroller: it leaves room for the scroll bar, whatever its width here.
  const [gutter, setGutter] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el) setGutter(el.offsetWidth - el.clientWidth);
  }, [win.width, total]);

  useEffect(() => {
    if (win.rows.last >= win.rows.first && !win.skimming) feed.want(win.rows.first, win.rows.last + PREFETCH);
  }, [feed, win.rows.first, win.rows.last, win.skimming]);

  const { scrollTo } = win;
  const reveal = useCallback(
    (index: number) => {
      const el = ref.current;
      if (el) scrollTo(scrollToReveal(index, el.scrollTop, el.clientHeight, ROW_HEIGHT));
    },
    [scrollTo],
  );
  const firstVisible = useCallback(() => Math.ceil((ref.current?.scrollTop ?? 0) / ROW_HEIGHT), []);
  const { handlers } = useListInteractions({ columns: 1, pageRows, total, reveal, firstVisible });
  useListFocusReturn(ref, reveal);

  const rows = [];
  for (let i = win.rows.first; i <= win.rows.last; i++) {
    const asset = feed.at(i);
    rows.push(<TableRow key={i} index={i} asset={asset} focused={i === focus} selected={selected(asset)} />);
  }

  return (
    <div className="table-view">
      <div className="thead" role="presentation" style={{ paddingRight: gutter }}>
        {COLUMNS.map((col) => {
          const active = col.sort !== undefined && sort.sort === col.sort;
          return (
            <div key={col.key} className={col.className} role="presentation">
              {col.sort ? (
                <button
                  type="button"
                  className={`th-sort${active ? ' th-sort--active' : ''}`}
                  aria-label={`Sort by ${col.label.toLowerCase()}${active ? (sort.order === 'asc' ? ', ascending' : ', descending') : ''}`}
                  onClick={() =>
                    setSort(active ? { sort: col.sort!, order: sort.order === 'asc' ? 'desc' : 'asc' } : { sort: col.sort!, order: defaultOrder(col.sort!) })
                  }
                >
                  {col.label}
                  {active ? <span aria-hidden="true">{sort.order === 'asc' ? ' ↑' : ' ↓'}</span> : null}
                </button>
              ) : (
                <span className="th-plain">{col.label}</span>
              )}
            </div>
          );
        })}
      </div>
      <div
        ref={ref}
        className="table-scroll"
        role="grid"
        aria-label="Assets"
        aria-rowcount={total}
        aria-multiselectable="true"
        aria-activedescendant={focus >= 0 && focus < total ? rowId(focus) : undefined}
        tabIndex={0}
        onScroll={win.onScroll}
        {...handlers}
        data-testid="library-table"
      >
        <div className="grid-spacer" style={{ height: total * ROW_HEIGHT }}>
          {rows}
        </div>
      </div>
    </div>
  );
}
