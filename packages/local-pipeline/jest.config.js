import preset from '@covid-etl/jest-preset';

export default { ...preset };
