export { dataService } from './data.definition';
