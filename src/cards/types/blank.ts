// A blank card: only what the step appends with current.card.append().
import { defineCardType } from './define.js';

export default defineCardType({ type: 'blank', description: 'only what the step appends', render: () => [] });
