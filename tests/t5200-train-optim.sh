#!/bin/sh
test_description='train_optim: AdamW and clipping against torch.optim.AdamW (issue 12, optimizer)'
. "$(dirname "$0")/lib.sh"

# tests/tools/train_adamw runs train_optim on a case that tests/tools/adamw_ref.py generates
# (7 tensors in 3 slabs, norm weights and a bias without weight decay, gradients from 1e-6 to 10,
# an expert with zero gradients on some steps, a cosine-like LR per step) and runs again with
# torch.optim.AdamW, two parameter groups (weight decay 0.1 and 0), betas 0.9/0.95, eps 1e-8.
PY=/usr/bin/python3
REF=$LING_ROOT/tests/tools/adamw_ref.py

"$PY" -c 'import torch' 2>/dev/null ||
	test_skip_all "/usr/bin/python3 cannot import torch (make deps installs python3-torch)"
command -v train_adamw >/dev/null ||
	test_skip_all "tests/tools/train_adamw is not built in $LING_TEST_TOOLS"

# same_as_torch SEED STEPS CLIP RTOL: the run of a generated case matches torch's within RTOL.
same_as_torch() {
	"$PY" "$REF" gen "$1" "$2" "$3" >case-$1-$3 &&
	train_adamw <case-$1-$3 >ours-$1-$3 &&
	"$PY" "$REF" run <case-$1-$3 >torch-$1-$3 &&
	"$PY" "$REF" compare ours-$1-$3 torch-$1-$3 "$4" >diff-$1-$3 &&
	test_comment "seed $1 clip $3: $(cat diff-$1-$3)"
}

test_expect_success 'AdamW, 30 steps, matches torch to 1e-6 (params, exp_avg, exp_avg_sq, step)' '
	same_as_torch 7 30 0 1e-6 &&
	grep -q "^step 30$" ours-7-0 &&
	grep -q "^exp_avg_sq.model.norm.weight " ours-7-0
'

test_expect_success 'the same with another seed and 100 steps' '
	same_as_torch 11 100 0 1e-6
'

# torch sums the gradient norm in fp32, so its clip factor differs from ours in the last bits;
# a moment that is a sum of cancelling gradients carries that up to ~1e-5 relative. The norms
# themselves must agree to 1e-6.
test_expect_success 'clipping at 1.0 matches clip_grad_norm_: norms to 1e-6, the rest to 1e-4' '
	same_as_torch 7 30 1.0 1e-4 &&
	grep "^norm " ours-7-1.0 >norms-ours &&
	grep "^norm " torch-7-1.0 >norms-torch &&
	"$PY" "$REF" compare norms-ours norms-torch 1e-6 >norm-diff &&
	test_comment "norms: $(cat norm-diff)" &&
	awk "\$2 > 1 { big++ } END { exit !(big > 5) }" norms-ours
'

test_expect_success 'a NaN or infinite gradient is refused, naming the tensor, nothing printed' '
	cat >nan-case <<-\IN &&
	adamw 0.9 0.95 1e-8 0.1 1.0
	tensors 2
	model.layers.0.attention.dense.weight 1 2
	model.norm.weight 2 1
	params 1 2 3
	step 0.1 0.5 -0.5 1
	step 0.1 0.5 nan 1
	IN
	test_must_fail_with 1 train_adamw <nan-case >out 2>err &&
	grep -q "gradient of model.layers.0.attention.dense.weight is not finite: update refused" err &&
	grep -q "^norm nan$" out &&
	! grep -q "^param" out &&
	sed "s/nan/inf/" nan-case >inf-case &&
	test_must_fail_with 1 train_adamw <inf-case 2>err &&
	grep -q "is not finite: update refused" err
'

test_done
