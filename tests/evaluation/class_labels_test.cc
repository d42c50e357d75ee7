// Labels to class indexes: class values carried by ONNX output names (1, 2, 3 rather than 0, 1, 2),
// class names, binary models with one output or two, and models that only know indexes.
#include <gtest/gtest.h>

#include "evaluation/class_labels.h"

namespace orchard {
namespace {

Model classifier(std::int32_t margins, TransformKind transform, std::vector<std::string> names) {
  Model model;
  model.num_outputs = margins;
  model.transform.kind = transform;
  model.output_names = std::move(names);
  return model;
}

TEST(ClassLabels, OnnxClassValuesAreFoundByValueNotByPosition) {
  // scikit-learn trained on classes 1, 2, 3: its outputs are class_1, class_2, class_3.
  const ClassLabels classes(classifier(3, TransformKind::kSoftmax, {"class_1", "class_2", "class_3"}));
  EXPECT_EQ(classes.count(), 3);
  EXPECT_EQ(classes.index_of(1.0), 0);
  EXPECT_EQ(classes.index_of(3.0), 2);
  EXPECT_FALSE(classes.index_of(0.0)) << "0 is no class of this model";
  EXPECT_FALSE(classes.index_of(2.5));
  EXPECT_EQ(classes.index_of("3"), 2);
  EXPECT_EQ(classes.index_of("3.0"), 2);
  EXPECT_EQ(classes.index_of("class_2"), 1);
  EXPECT_EQ(classes.describe(), "1, 2, 3");
}

TEST(ClassLabels, NamedClassesAreFoundByNameOrIndex) {
  const ClassLabels classes(classifier(3, TransformKind::kSoftmax, {"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(classes.index_of("virginica"), 2);
  EXPECT_FALSE(classes.index_of("Virginica"));
  EXPECT_EQ(classes.index_of(1.0), 1) << "without class values a number is the class index";
  EXPECT_FALSE(classes.index_of(3.0));
  EXPECT_EQ(classes.describe(), "setosa, versicolor, virginica");
}

TEST(ClassLabels, BinaryModelsHaveTwoClassesWhateverTheirOutputs) {
  const ClassLabels one_output(classifier(1, TransformKind::kSigmoid, {"prediction"}));
  EXPECT_EQ(one_output.count(), 2);
  EXPECT_EQ(one_output.index_of(0.0), 0);
  EXPECT_EQ(one_output.index_of(1.0), 1);
  EXPECT_FALSE(one_output.index_of(2.0));
  EXPECT_FALSE(one_output.index_of(-1.0));
  // scikit-learn's predict_proba through ONNX, trained on labels -1 and 1.
  const ClassLabels pair(classifier(1, TransformKind::kSigmoidPair, {"class_-1", "class_1"}));
  EXPECT_EQ(pair.index_of(-1.0), 0);
  EXPECT_EQ(pair.index_of(1.0), 1);
  EXPECT_FALSE(pair.index_of(0.0));
}

TEST(ClassLabels, ModelsThatOutputTheWinningIndexHaveOneClassPerMargin) {
  // XGBoost multi:softmax: one output ("class"), four margins.
  const ClassLabels classes(classifier(4, TransformKind::kArgMax, {"class"}));
  EXPECT_EQ(classes.count(), 4);
  EXPECT_EQ(classes.index_of(3.0), 3);
  EXPECT_FALSE(classes.index_of(4.0));
}

}  // namespace
}  // namespace orchard
