"""A model's SageMaker pipeline definition, generated with the SDK's workflow API (v3) and no AWS call.

preprocess (processing) -> train (training) -> evaluate (processing, evaluation.json as a property file)
-> ROC-AUC >= threshold ? register the version with its metrics : fail, naming the metric.

Every job runs the stack's image with the model code of this stack's content-addressed upload: the image
is the runtime (Python, scikit-learn, pyarrow; the same one serves the model, so the pickle is read by the
library version that wrote it), the code comes as an input and shadows the copy baked into the image
(PYTHONSAFEPATH keeps `python -m model_code` from importing the image's working directory first).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from ._sagemaker_offline import offline_pipeline_session

STEP_PREPROCESS = "Preprocess"
STEP_TRAIN = "Train"
STEP_EVALUATE = "Evaluate"
STEP_CHECK = "CheckRocAuc"
STEP_REGISTER = "RegisterModel"
STEP_FAIL = "RocAucBelowThreshold"
PARAMETER_INPUT = "InputDataUri"
PARAMETER_TRIGGER = "TriggeredBy"
EVALUATION_REPORT = "EvaluationReport"
EVALUATION_FILE = "evaluation.json"  # model_code.evaluate.EVALUATION_FILE
ROC_AUC_PATH = "binary_classification_metrics.roc_auc.value"  # model_code.evaluate.EVALUATION_JSON_PATHS
SPLITS = ("train", "validation", "test")
PROCESSING = "/opt/ml/processing"
CODE_IN_PROCESSING = f"{PROCESSING}/code"
CODE_IN_TRAINING = "/opt/ml/input/data/code"  # the "code" channel
CONTENT_TYPES = ["text/csv", "application/json"]  # what model_code/server.py accepts


@dataclass(frozen=True)
class PipelineSpec:
    """Everything the definition depends on, as plain values (resolved from the stack's outputs)."""

    pipeline_name: str
    """Pipeline name; also the model package group name."""
    region: str
    """Region the jobs run in."""
    role_arn: str
    """Execution role of the pipeline and of every job."""
    image_uri: str
    """Image of every job (`<registry>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:...`)."""
    kms_key_arn: str
    """Key for job volumes and outputs."""
    raw_data_uri: str
    """Default of the InputDataUri parameter: the model's raw-data prefix (`s3://<raw>/<prefix>/`)."""
    curated_bucket: str
    """Bucket of the splits."""
    artifacts_bucket: str
    """Bucket of models, evaluations and checkpoints."""
    work_prefix: str
    """Key prefix of this model's pipeline data in both buckets (no slashes at the ends)."""
    code_uri: str
    """S3 prefix (`s3://.../`) holding the `model_code` package uploaded by the stack."""
    code_sha256: str
    """Content hash of that code, recorded on every registered version."""
    model_package_group: str
    """Registry group the versions are registered in."""
    evaluation_threshold: float
    """Minimum test ROC-AUC to register."""
    approval_status: str
    """`Approved` or `PendingManualApproval`."""
    instance_type: str
    """Training instance type."""
    instance_count: int
    """Training instance count."""
    processing_instance_type: str
    """Instance type of preprocessing and evaluation."""
    volume_size_gb: int
    """EBS volume of every job."""
    max_runtime_seconds: int
    """Time limit of every job."""
    spot_max_wait_seconds: int | None
    """Managed spot training with this wait limit, checkpointed per execution; None: on-demand."""
    network_isolation: bool
    """Run the containers without network access."""
    inter_container_encryption: bool
    """Encrypt traffic between a job's instances."""
    hyperparameters: tuple[tuple[str, str], ...] = ()
    """Flags of the training entry point, as (name, value) pairs (a tuple keeps the spec hashable)."""
    subnet_ids: tuple[str, ...] = ()
    """Private subnets the jobs run in; empty: no VPC."""
    security_group_ids: tuple[str, ...] = ()
    """Security groups of the jobs' network interfaces (with subnet_ids)."""


def code_environment(code_dir: str) -> dict[str, str]:
    """Container environment that makes `python -m model_code` import the uploaded code from `code_dir`."""
    return {"PYTHONSAFEPATH": "1", "PYTHONPATH": code_dir}


@functools.lru_cache(maxsize=32)
def pipeline_definition(spec: PipelineSpec) -> str:
    """The definition JSON (keys sorted, so equal inputs give equal text and `mlops diff` stays quiet).

    A pure function of the spec, so it is cached: a plan generates each distinct definition once (~1 s)."""
    with offline_pipeline_session(spec.region, spec.artifacts_bucket) as session:
        from sagemaker.core.workflow.parameters import ParameterString
        from sagemaker.mlops.workflow import Pipeline

        input_data = ParameterString(PARAMETER_INPUT, default_value=spec.raw_data_uri)
        triggered_by = ParameterString(PARAMETER_TRIGGER, default_value="manual")
        steps = _Steps(spec, session, input_data, triggered_by)
        pipeline = Pipeline(
            name=spec.pipeline_name,
            parameters=[input_data, triggered_by],
            steps=[steps.preprocess, steps.train, steps.evaluate, steps.check],
            sagemaker_session=session,
            # No experiment/trial per execution: it needs account-wide sagemaker:Create* rights on `*`.
            pipeline_experiment_config=None,
        )
        definition = pipeline.definition()
    return json.dumps(json.loads(definition), sort_keys=True, separators=(",", ":"))


class _Steps:
    """The five kinds of steps, each built by one method from the spec."""

    def __init__(self, spec: PipelineSpec, session: Any, input_data: Any, triggered_by: Any) -> None:
        from sagemaker.core.workflow.execution_variables import ExecutionVariables

        self.spec, self.session = spec, session
        self.execution = ExecutionVariables.PIPELINE_EXECUTION_ID
        self.preprocess = self._preprocess(input_data)
        self.train = self._train()
        self.evaluate, self.report = self._evaluate()
        self.check = self._check(triggered_by)

    def _uri(self, bucket: str, leaf: str) -> Any:
        """`s3://<bucket>/<work prefix>/<execution id>/<leaf>`: each execution writes its own data."""
        from sagemaker.core.workflow.functions import Join

        return Join(on="/", values=["s3:/", bucket, self.spec.work_prefix, self.execution, leaf])

    def _processor(self, job: str) -> Any:
        from sagemaker.core.network import NetworkConfig
        from sagemaker.core.processing import Processor

        s = self.spec
        return Processor(
            role=s.role_arn, image_uri=s.image_uri, instance_count=1, instance_type=s.processing_instance_type,
            volume_size_in_gb=s.volume_size_gb, volume_kms_key=s.kms_key_arn, output_kms_key=s.kms_key_arn,
            max_runtime_in_seconds=s.max_runtime_seconds, base_job_name=f"{s.pipeline_name}-{job}",
            sagemaker_session=self.session, env=code_environment(CODE_IN_PROCESSING),
            network_config=NetworkConfig(
                enable_network_isolation=s.network_isolation,
                encrypt_inter_container_traffic=s.inter_container_encryption,
                subnets=list(s.subnet_ids) or None, security_group_ids=list(s.security_group_ids) or None,
            ),
        )

    @staticmethod
    def _input(name: str, uri: Any, local_path: str) -> Any:
        from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

        return ProcessingInput(input_name=name, s3_input=ProcessingS3Input(
            s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"))

    @staticmethod
    def _output(name: str, uri: Any) -> Any:
        from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

        return ProcessingOutput(output_name=name, s3_output=ProcessingS3Output(
            s3_uri=uri, local_path=f"{PROCESSING}/{name}", s3_upload_mode="EndOfJob"))

    def _preprocess(self, input_data: Any) -> Any:
        from sagemaker.mlops.workflow import ProcessingStep

        step_args = self._processor("preprocess").run(
            inputs=[self._input("raw", input_data, f"{PROCESSING}/input"),
                    self._input("code", self.spec.code_uri, CODE_IN_PROCESSING)],
            outputs=[self._output(split, self._uri(self.spec.curated_bucket, split)) for split in SPLITS],
            arguments=["preprocess"],
        )
        return ProcessingStep(name=STEP_PREPROCESS, step_args=step_args)

    def _split(self, name: str) -> Any:
        return self.preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    def _train(self) -> Any:
        from sagemaker.core.shapes import StoppingCondition
        from sagemaker.core.training.configs import CheckpointConfig, Compute, InputData, Networking, OutputDataConfig
        from sagemaker.mlops.workflow import TrainingStep
        from sagemaker.train.model_trainer import ModelTrainer

        s = self.spec
        spot = s.spot_max_wait_seconds is not None
        trainer = ModelTrainer(
            sagemaker_session=self.session, role=s.role_arn, training_image=s.image_uri,
            base_job_name=f"{s.pipeline_name}-train", hyperparameters=dict(s.hyperparameters),
            environment=code_environment(CODE_IN_TRAINING),
            compute=Compute(instance_type=s.instance_type, instance_count=s.instance_count,
                            volume_size_in_gb=s.volume_size_gb, volume_kms_key_id=s.kms_key_arn,
                            enable_managed_spot_training=spot),
            networking=Networking(enable_network_isolation=s.network_isolation,
                                  enable_inter_container_traffic_encryption=s.inter_container_encryption,
                                  subnets=list(s.subnet_ids) or None,
                                  security_group_ids=list(s.security_group_ids) or None),
            stopping_condition=StoppingCondition(max_runtime_in_seconds=s.max_runtime_seconds,
                                                 max_wait_time_in_seconds=s.spot_max_wait_seconds),
            output_data_config=OutputDataConfig(
                s3_output_path=f"s3://{s.artifacts_bucket}/{s.work_prefix}/models", kms_key_id=s.kms_key_arn,
                compression_type="GZIP"),
            # Per execution, so a spot job resumes its own interrupted run and never another's.
            checkpoint_config=CheckpointConfig(s3_uri=self._uri(s.artifacts_bucket, "checkpoints")) if spot else None,
        )
        step_args = trainer.train(input_data_config=[
            InputData(channel_name="train", data_source=self._split("train")),
            InputData(channel_name="validation", data_source=self._split("validation")),
            InputData(channel_name="code", data_source=s.code_uri),
        ])
        return TrainingStep(name=STEP_TRAIN, step_args=step_args)

    def _evaluate(self) -> tuple[Any, Any]:
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow import ProcessingStep

        report = PropertyFile(name=EVALUATION_REPORT, output_name="evaluation", path=EVALUATION_FILE)
        step_args = self._processor("evaluate").run(
            inputs=[self._input("model", self.train.properties.ModelArtifacts.S3ModelArtifacts, f"{PROCESSING}/model"),
                    self._input("test", self._split("test"), f"{PROCESSING}/test"),
                    self._input("code", self.spec.code_uri, CODE_IN_PROCESSING)],
            outputs=[self._output("evaluation", self._uri(self.spec.artifacts_bucket, "evaluation"))],
            arguments=["evaluate"],
        )
        return ProcessingStep(name=STEP_EVALUATE, step_args=step_args, property_files=[report]), report

    def _report_location(self) -> Any:
        return self.evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri

    def _register(self, triggered_by: Any) -> Any:
        from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.core.workflow.functions import Join
        from sagemaker.mlops.workflow import ModelStep
        from sagemaker.serve.model_builder import ModelBuilder

        s = self.spec
        builder = ModelBuilder(
            image_uri=s.image_uri, s3_model_data_url=self.train.properties.ModelArtifacts.S3ModelArtifacts,
            role_arn=s.role_arn, sagemaker_session=self.session,
            # Not used by registration; given so the builder does not look a default up in JumpStart.
            instance_type=s.processing_instance_type,
            # The default ({"auto": False}) makes the builder stage code in the session's default bucket.
            dependencies={},
        )
        step_args = builder.register(
            model_package_group_name=s.model_package_group, content_types=CONTENT_TYPES,
            response_types=CONTENT_TYPES, approval_status=s.approval_status,
            # The registry shows evaluation.json as the version's model-quality statistics.
            model_metrics=ModelMetrics(model_statistics=MetricsSource(
                s3_uri=Join(on="/", values=[self._report_location(), EVALUATION_FILE]),
                content_type="application/json")),
            customer_metadata_properties={
                "evaluationThreshold": str(s.evaluation_threshold),
                "codeSha256": s.code_sha256,
                "triggeredBy": triggered_by,
            },
            domain="MACHINE_LEARNING", task="CLASSIFICATION",
        )
        return ModelStep(name=STEP_REGISTER, step_args=step_args)

    def _check(self, triggered_by: Any) -> Any:
        from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
        from sagemaker.core.workflow.functions import Join, JsonGet
        from sagemaker.mlops.workflow import ConditionStep, FailStep

        roc_auc = JsonGet(step_name=STEP_EVALUATE, property_file=self.report, json_path=ROC_AUC_PATH)
        # Join takes strings and property references only (no nested functions), hence the flat list.
        fail = FailStep(name=STEP_FAIL, error_message=Join(on="", values=[
            f"Model not registered: test ROC-AUC ({ROC_AUC_PATH} in {EVALUATION_FILE}) is below the required "
            f"{self.spec.evaluation_threshold}. Report: ", self._report_location(), f"/{EVALUATION_FILE}"]))
        return ConditionStep(
            name=STEP_CHECK,
            # A literal, not a pipeline parameter: nobody can lower the bar for one execution.
            conditions=[ConditionGreaterThanOrEqualTo(left=roc_auc, right=self.spec.evaluation_threshold)],
            if_steps=[self._register(triggered_by)], else_steps=[fail],
        )
