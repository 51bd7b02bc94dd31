import { Injectable } from '@nestjs/common';
import { DEFAULT_PAGE_SIZE, InvalidArgumentError } from '@trellis/platform';
import { parseOrderBy } from '../common/search/order-by.parser';
import { parseRunFilter } from '../common/search/run-filter.parser';
import { RunRepository } from './run.repository';
import { offsetOf, offsetPage, pageSizeWithin, parseField, parseOrderByList } from '../common/search/search-request';

/** The most runs one page may hold (MLflow's SEARCH_MAX_RESULTS_THRESHOLD), an exception to MAX_PAGE_SIZE. */
export const MAX_RUN_PAGE_SIZE = 50_000;

/** A `runs/search` request after the caller has resolved and checked the experiments. */
export interface RunSearchRequest {
  experimentIds: number[];
  /** MLflow's filter grammar; empty for every run. */
  filter: string;
  /** Entries such as `metrics.acc DESC`; empty for `start_time DESC`. */
  orderBy: string[];
  viewType: 'active' | 'deleted' | 'all';
  /** 0 for 100; at most 50,000. */
  pageSize: number;
  /** '' for the first page, else the previous page's `nextPageToken`. */
  pageToken: string;
}

/** One page of run ids, in order, and the token of the next page ('' after the last). */
export interface RunSearchPage {
  runIds: string[];
  nextPageToken: string;
}

/**
 * MLflow's run search over the tracking tables, as MLflow's SQL store answers it: the ids of one
 * page of matching runs, in order, from one SELECT of the repository with every key and value bound. Pages are
 * offsets in a token bound to the filter, order, experiments and view type, as MLflow's own
 * tokens are offsets; a page may therefore shift when runs are added between calls.
 */
@Injectable()
export class RunSearch {
  constructor(private readonly runs: RunRepository) {}

  /** INVALID_ARGUMENT naming `filter`, `order_by`, `page_size` or `page_token` for a bad request. */
  async search(request: RunSearchRequest): Promise<RunSearchPage> {
    const filter = parseField('filter', () => parseRunFilter(request.filter));
    const orderBy = parseOrderByList(request.orderBy, parseOrderBy);
    const pageSize = pageSizeWithin(request.pageSize, DEFAULT_PAGE_SIZE, MAX_RUN_PAGE_SIZE);
    for (const id of request.experimentIds) {
      if (!Number.isSafeInteger(id)) throw new InvalidArgumentError(`${id} is not an experiment id`, 'experiment_ids');
    }
    const experimentIds = [...new Set(request.experimentIds)].sort((a, b) => a - b);
    const listing = {
      experiments: experimentIds.join(','),
      view: request.viewType,
      filter: JSON.stringify(filter),
      orderBy: JSON.stringify(orderBy),
    };
    const offset = offsetOf(request.pageToken, listing);
    if (experimentIds.length === 0) return { runIds: [], nextPageToken: '' };

    const ids = await this.runs.searchIds({
      experimentIds,
      lifecycleStage: request.viewType === 'all' ? undefined : request.viewType,
      filter,
      orderBy,
      limit: pageSize + 1,
      offset,
    });
    const page = offsetPage(ids, pageSize, offset, listing);
    return { runIds: page.items, nextPageToken: page.nextPageToken };
  }
}
