/**
 * The Library as a grid of square thumbnails, windowed: only the rows in view (plus a few either
 * side) exist in the DOM, every cell has the same size, and the rows are fetched page by page as
 * they come into view — so 100,000 assets scroll like 100.
 */
import { memo, useCallback, useEffect, useRef } from 'react';
import { displayUrl } from '../../../api/media.ts';
import type { AssetView } from '../../../contract.ts';
import { gridLayout, rowCount, scrollToReveal } from '../grid-math.ts';
import { clipLength, promptOrKind } from '../labels.ts';
import { CheckIcon, FilmIcon, HeartIcon, ImagePendingIcon, PlayBadgeIcon, StarIcon } from '../../../components/icons.tsx';
import { useListFocusReturn } from './list-focus.ts';
import { useListInteractions, useListState } from './use-list-interactions.ts';
import { useWindow } from './use-window.ts';

export const MIN_CELL = 172;
export const GAP = 10;
const OVERSCAN_ROWS = 2;
/** Rows fetched beyond the drawn ones, so data is usually there before the row is. */
const PREFETCH_ROWS = 6;

export const cellId = (index: number) => `library-cell-${index}`;

interface CellProps {
  readonly index: number;
  readonly asset: AssetView | undefined;
  readonly selected: boolean;
  readonly focused: boolean;
  readonly size: number;
  /** Skimming: a plain tile, no picture to fetch and decode. */
  readonly skim: boolean;
}

const GridCell = memo(function GridCell({ index, asset, selected, focused, size, skim }: CellProps) {
  const style = { width: size, height: size };
  if (!asset || skim) {
    return <div role="gridcell" id={cellId(index)} data-index={index} className="cell cell--loading" style={style} aria-busy="true" aria-label="Loading" />;
  }
  const label = promptOrKind(asset);
  const thumb = asset.thumbUrl ? displayUrl(asset.thumbUrl) : null;
  // The cell's name carries what its badges show (drawn for the eye only), after the prompt it shows.
  const facts = [
    asset.kind === 'video' && asset.durationMs !== null ? clipLength(asset.durationMs) : null,
    asset.favorite ? 'favourite' : null,
    asset.rating > 0 ? `${asset.rating} of 5 stars` : null,
  ].filter(Boolean);
  return (
    <div
      role="gridcell"
      id={cellId(index)}
      data-index={index}
      data-asset-id={asset.id}
      aria-selected={selected}
      aria-label={`${asset.kind === 'video' ? 'Video' : 'Image'}: ${label}${facts.length > 0 ? `, ${facts.join(', ')}` : ''}`}
      className={`cell${selected ? ' cell--selected' : ''}${focused ? ' cell--focused' : ''}`}
      style={style}
      title={label}
    >
      {thumb ? (
        <img className="cell-img" src={thumb} alt="" draggable={false} decoding="async" />
      ) : (
        <div className="cell-pending" aria-hidden="true">
          {asset.kind === 'video' ? <FilmIcon /> : <ImagePendingIcon />}
          <span>Thumbnail on its way</span>
        </div>
      )}
      <span className="cell-check" data-role="check" title={selected ? 'Deselect' : 'Select'}>
        <CheckIcon />
      </span>
      <span className="cell-badges" aria-hidden="true">
        {asset.favorite ? (
          <span className="cell-badge cell-badge--fav">
            <HeartIcon filled />
          </span>
        ) : null}
        {asset.kind === 'video' ? (
          <span className="cell-badge">
            <PlayBadgeIcon />
            {clipLength(asset.durationMs)}
          </span>
        ) : null}
      </span>
      <span className="cell-caption">
        <span className="cell-caption-text">{label}</span>
        {asset.rating > 0 ? (
          <span className="cell-rating" aria-hidden="true">
            <StarIcon filled />
            {asset.rating}
          </span>
        ) : null}
      </span>
    </div>
  );
});

export function AssetGrid() {
  const { feed, total, focus, selected } = useListState();
  const ref = useRef<HTMLDivElement>(null);
  const layoutOf = useCallback(
    (width: number) => {
      const g = gridLayout(width, MIN_CELL, GAP);
      return { rowHeight: g.rowHeight, rowCount: rowCount(total, g.columns) };
    },
    [total],
  );
  const win = useWindow(ref, layoutOf, OVERSCAN_ROWS);
  const layout = gridLayout(win.width, MIN_CELL, GAP);
  const rows = rowCount(total, layout.columns);
  const pageRows = Math.max(1, Math.floor(win.height / layout.rowHeight));

  // Rows are fetched for where the user is reading, not for every place a fling passes through.
  useEffect(() => {
    if (win.rows.last < win.rows.first || win.skimming) return;
    feed.want(win.rows.first * layout.columns, (win.rows.last + 1 + PREFETCH_ROWS) * layout.columns - 1);
  }, [feed, win.rows.first, win.rows.last, win.skimming, layout.columns]);

  const { scrollTo } = win;
  const reveal = useCallback(
    (index: number) => {
      const el = ref.current;
      if (!el) return;
      scrollTo(scrollToReveal(Math.floor(index / layout.columns), el.scrollTop, el.clientHeight, layout.rowHeight, layout.gap));
    },
    [layout.columns, layout.rowHeight, layout.gap, scrollTo],
  );
  const firstVisible = useCallback(() => Math.floor((ref.current?.scrollTop ?? 0) / layout.rowHeight + 0.5) * layout.columns, [layout.rowHeight, layout.columns]);
  const { handlers } = useListInteractions({ columns: layout.columns, pageRows, total, reveal, firstVisible });
  useListFocusReturn(ref, reveal);

  const drawn = [];
  if (win.width > 0) {
    for (let r = win.rows.first; r <= win.rows.last; r++) {
      const cells = [];
      for (let c = 0; c < layout.columns; c++) {
        const index = r * layout.columns + c;
        if (index >= total) break;
        const asset = feed.at(index);
        cells.push(
          <GridCell
            key={index}
            index={index}
            asset={asset}
            size={layout.cellSize}
            skim={win.skimming}
            focused={index === focus}
            selected={selected(asset)}
          />,
        );
      }
      drawn.push(
        <div key={r} role="row" aria-rowindex={r + 1} className="grid-row" style={{ transform: `translateY(${r * layout.rowHeight}px)`, gap: layout.gap }}>
          {cells}
        </div>,
      );
    }
  }

  return (
    <div
      ref={ref}
      className="grid-scroll"
      role="grid"
      aria-label="Assets"
      aria-rowcount={rows}
      aria-colcount={layout.columns}
      aria-multiselectable="true"
      aria-activedescendant={focus >= 0 && focus < total ? cellId(focus) : undefined}
      tabIndex={0}
      onScroll={win.onScroll}
      {...handlers}
      data-testid="library-grid"
    >
      <div className="grid-spacer" style={{ height: rows * layout.rowHeight }}>
        {drawn}
      </div>
    </div>
  );
}
