import { Injectable } from '@nestjs/common';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@trellis/platform';
import { parseExperimentFilter, parseExperimentOrderBy } from '../common/search/experiment-filter.parser';
import { ExperimentRepository } from './experiment.repository';
import { offsetOf, offsetPage, pageSizeWithin, parseField, parseOrderByList } from '../common/search/search-request';

/** An `experiments/search` request after the caller has worked out which projects it may read. */
export interface ExperimentSearchRequest {
  /** The projects to search, or 'all' for every project (a caller who may read them all). */
  projectIds: string[] | 'all';
  /** MLflow's experiment filter grammar; empty for every experiment. */
  filter: string;
  /** Entries such as `name ASC`; empty for `creation_time DESC`. */
  orderBy: string[];
  viewType: 'active' | 'deleted' | 'all';
  /** 0 for 100; at most 1000. */
  pageSize: number;
  /** '' for the first page, else the previous page's `nextPageToken`. */
  pageToken: string;
}

/** One page of experiment ids, in order, and the token of the next page ('' after the last). */
export interface ExperimentSearchPage {
  experimentIds: number[];
  nextPageToken: string;
}

/**
 * MLflow's experiment search over the tracking tables: the ids of one page of matching
 * experiments, in order (default `creation_time DESC`, always then `experiment_id ASC`), from one
 * SELECT of the repository with every key and value bound. Page tokens are offsets bound to the
 * request's filter, order, projects and view type.
 */
@Injectable()
export class ExperimentSearch {
  constructor(private readonly experiments: ExperimentRepository) {}

  /** INVALID_ARGUMENT naming `filter`, `order_by`, `page_size` or `page_token` for a bad request. */
  async search(request: ExperimentSearchRequest): Promise<ExperimentSearchPage> {
    const filter = parseField('filter', () => parseExperimentFilter(request.filter));
    const orderBy = parseOrderByList(request.orderBy, parseExperimentOrderBy);
    const pageSize = pageSizeWithin(request.pageSize, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const projectIds = request.projectIds === 'all' ? undefined : [...new Set(request.projectIds)].sort();
    const listing = {
      projects: projectIds === undefined ? '*' : JSON.stringify(projectIds),
      view: request.viewType,
      filter: JSON.stringify(filter),
      orderBy: JSON.stringify(orderBy),
    };
    const offset = offsetOf(request.pageToken, listing);
    if (projectIds?.length === 0) return { experimentIds: [], nextPageToken: '' };

    const ids = await this.experiments.searchIds({
      projectIds,
      lifecycleStage: request.viewType === 'all' ? undefined : request.viewType,
      filter,
      orderBy,
      limit: pageSize + 1,
      offset,
    });
    const page = offsetPage(ids, pageSize, offset, listing);
    return { experimentIds: page.items, nextPageToken: page.nextPageToken };
  }
}
