import { Page } from '../../components/page';

export function DatasetsPage() {
  return <Page title="Datasets" />;
}
