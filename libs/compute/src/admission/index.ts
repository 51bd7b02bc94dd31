export type * from './admission.types';
export { admit } from './admit';
