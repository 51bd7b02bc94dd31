import { classificationPerformance, classText, NO_COUNTS, performanceOf, positiveClassOf, regressionPerformance } from './performance-metrics';

describe('classificationPerformance', () => {
  it('gives accuracy, precision, recall and F1 of the positive class as computed by hand', () => {
    // y_true 1 0 1 1 0 0 1 0, y_pred 1 1 0 1 0 0 1 1: TP 3, FP 2, FN 1, TN 2.
    const performance = classificationPerformance({ ...NO_COUNTS, labeled: 8, correct: 5, truePositives: 3, predictedPositives: 5, labeledPositives: 4 });
    expect(performance).toEqual({ labeledRows: 8, accuracy: 0.625, precision: 0.6, recall: 0.75, f1: expect.any(Number), mae: 0, rmse: 0 });
    // F1 = 2·3 / (2·3 + 2 + 1) = 2/3, the harmonic mean of 0.6 and 0.75.
    expect(performance.f1).toBeCloseTo(2 / 3, 12);
    expect(performance.f1).toBeCloseTo((2 * 0.6 * 0.75) / (0.6 + 0.75), 12);
  });

  it('reads 0 for precision and F1 when no row is predicted positive, and for recall when none is labelled positive', () => {
    // y_true 0 0 1, y_pred 0 0 0: precision is 0/0 (scikit-learn's zero_division=0), recall 0/1.
    expect(classificationPerformance({ ...NO_COUNTS, labeled: 3, correct: 2, labeledPositives: 1 })).toMatchObject({ accuracy: 2 / 3, precision: 0, recall: 0, f1: 0 });
    // y_true 0 0, y_pred 1 0: recall is 0/0, precision 0/1.
    expect(classificationPerformance({ ...NO_COUNTS, labeled: 2, correct: 1, predictedPositives: 1 })).toMatchObject({ accuracy: 0.5, precision: 0, recall: 0, f1: 0 });
  });

  it('reads all 0 for a window without labels', () => {
    expect(classificationPerformance(NO_COUNTS)).toEqual({ labeledRows: 0, accuracy: 0, precision: 0, recall: 0, f1: 0, mae: 0, rmse: 0 });
  });

  it('gives 1 everywhere for a perfect window', () => {
    expect(classificationPerformance({ ...NO_COUNTS, labeled: 4, correct: 4, truePositives: 2, predictedPositives: 2, labeledPositives: 2 })).toMatchObject({ accuracy: 1, precision: 1, recall: 1, f1: 1 });
  });
});

describe('regressionPerformance', () => {
  it('gives MAE and RMSE as computed by hand', () => {
    // y_true 3 -0.5 2 7, y_pred 2.5 0 2 8: |e| 0.5 0.5 0 1 (sum 2), e^2 0.25 0.25 0 1 (sum 1.5).
    const performance = regressionPerformance({ ...NO_COUNTS, labeled: 4, regressionRows: 4, absoluteErrors: 2, squaredErrors: 1.5 });
    expect(performance).toEqual({ labeledRows: 4, accuracy: 0, precision: 0, recall: 0, f1: 0, mae: 0.5, rmse: Math.sqrt(0.375) });
    expect(performance.rmse).toBeCloseTo(0.6123724357, 9);
  });

  it('counts only the rows with a number label, and reads 0 without any', () => {
    expect(regressionPerformance({ ...NO_COUNTS, labeled: 3, regressionRows: 0 })).toEqual({ labeledRows: 0, accuracy: 0, precision: 0, recall: 0, f1: 0, mae: 0, rmse: 0 });
  });
});

describe('performanceOf', () => {
  const counts = { ...NO_COUNTS, labeled: 2, correct: 1, regressionRows: 2, absoluteErrors: 4, squaredErrors: 10 };

  it("takes the monitor's task", () => {
    expect(performanceOf({ task: 'classification', predictionTensor: '', positiveClass: '', decisionThreshold: 0.5 }, counts)).toMatchObject({ accuracy: 0.5, mae: 0 });
    expect(performanceOf({ task: 'regression', predictionTensor: '', positiveClass: '', decisionThreshold: 0.5 }, counts)).toMatchObject({ accuracy: 0, mae: 2, rmse: Math.sqrt(5) });
  });

  it('takes "1" as the positive class when the monitor names none', () => {
    expect(positiveClassOf({ task: 'classification', predictionTensor: '', positiveClass: '', decisionThreshold: 0.5 })).toBe('1');
    expect(positiveClassOf({ task: 'classification', predictionTensor: '', positiveClass: 'fraud', decisionThreshold: 0.5 })).toBe('fraud');
  });
});

describe('classText', () => {
  it('writes a number as a class the way its category would read', () => {
    expect([classText(1), classText(1.0), classText(0), classText(2.5), classText('yes')]).toEqual(['1', '1', '0', '2.5', 'yes']);
  });
});
